// Process settings that make LibTorch fast on CPU.
#pragma once

namespace electra::model {

// glibc returns large blocks (every activation tensor) to the kernel by default, so each step
// page-faults its memory in again; measured here, that doubled the ELECTRA-Small step time.
// Keeps freed memory in the process instead (as a caching allocator would).
void keep_freed_memory_in_process();

}  // namespace electra::model
