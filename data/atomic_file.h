// Writing a file so that readers see the old content or the whole new one, never a part, even
// after a crash or a power loss: the bytes go to "<path>.tmp", are flushed to disk (fsync), and
// the temporary is renamed over `path` (and the directory entry flushed). A failed write (disk
// full, file-size limit, permissions) removes the temporary and throws naming the file and the
// reason; whatever `path` held before stays.
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>

namespace electra::data {

class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path);  // opens "<path>.tmp"
  ~AtomicFileWriter();                          // without commit(): removes the temporary
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(const void* data, size_t size);  // throws on the first failure
  void commit();                              // flush, fsync, rename; throws on failure

 private:
  [[noreturn]] void fail(const std::string& what, int error);
  std::string path_, temp_;
  std::FILE* file_ = nullptr;
};

// Writes `bytes` to `path` with an AtomicFileWriter.
void write_file_atomically(const std::string& path, std::string_view bytes);

}  // namespace electra::data
