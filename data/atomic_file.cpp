#include "data/atomic_file.h"

#include "data/output_record.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace electra::data {

namespace {

// A write beyond the file-size limit (ulimit -f) raises SIGXFSZ, which kills the process by
// default; ignored, the write fails with EFBIG and is reported like a full disk.
void ignore_file_size_signal() {
  static const bool ignored = [] {
    std::signal(SIGXFSZ, SIG_IGN);
    return true;
  }();
  (void)ignored;
}

}  // namespace

AtomicFileWriter::AtomicFileWriter(std::string path)
    : path_(std::move(path)), temp_(path_ + ".tmp") {
  ignore_file_size_signal();
  note_written(path_);  // listed in its output folder's record before its first byte
  file_ = std::fopen(temp_.c_str(), "wb");
  if (!file_) fail("cannot create", errno);
}

AtomicFileWriter::~AtomicFileWriter() {
  if (file_) {
    std::fclose(file_);
    std::remove(temp_.c_str());
  }
}

void AtomicFileWriter::fail(const std::string& what, int error) {
  if (file_) std::fclose(file_), file_ = nullptr;
  std::remove(temp_.c_str());
  throw std::runtime_error(temp_ + ": " + what + ": " + std::strerror(error) +
                           "; free disk space or check the file-size limit and permissions");
}

void AtomicFileWriter::write(const void* data, size_t size) {
  if (size > 0 && std::fwrite(data, 1, size, file_) != size) fail("write failed", errno);
}

void AtomicFileWriter::commit() {
  if (std::fflush(file_) != 0) fail("write failed", errno);
  if (::fsync(::fileno(file_)) != 0) fail("fsync failed", errno);
  const int closed = std::fclose(file_);
  file_ = nullptr;
  if (closed != 0) fail("close failed", errno);
  if (std::rename(temp_.c_str(), path_.c_str()) != 0) {
    const int error = errno;
    std::remove(temp_.c_str());
    throw std::runtime_error(temp_ + ": rename to " + path_ + " failed: " + std::strerror(error));
  }
  // The rename itself reaches the disk with the directory.
  std::string dir = std::filesystem::path(path_).parent_path().string();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) ::fsync(fd), ::close(fd);
}

void write_file_atomically(const std::string& path, std::string_view bytes) {
  AtomicFileWriter writer(path);
  writer.write(bytes.data(), bytes.size());
  writer.commit();
}

}  // namespace electra::data
