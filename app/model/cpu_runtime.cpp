#include "app/model/cpu_runtime.h"

#include <malloc.h>

namespace electra::model {

void keep_freed_memory_in_process() {
#ifdef M_MMAP_THRESHOLD
  mallopt(M_MMAP_THRESHOLD, 1 << 30);  // blocks up to 1 GiB come from the heap, not mmap
  mallopt(M_TRIM_THRESHOLD, -1);       // never trim the heap back
#endif
}

}  // namespace electra::model
