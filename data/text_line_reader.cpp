#include "data/text_line_reader.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "data/input_files.h"

namespace electra::data {

namespace {
constexpr size_t kBlockBytes = 1 << 20;
}

TextLineReader::TextLineReader(std::string path, size_t max_line_bytes)
    : path_(std::move(path)), max_line_bytes_(max_line_bytes) {
  check_input_file(path_, path_, "a text file");
  file_ = std::fopen(path_.c_str(), "rb");
  if (!file_) {
    throw std::runtime_error(path_ + ": cannot open (" + std::strerror(errno) +
                             "); check the --input path and its permissions");
  }
  std::error_code error;
  file_size_ = size_t(std::filesystem::file_size(path_, error));
}

TextLineReader::~TextLineReader() {
  if (file_) std::fclose(file_);
}

void TextLineReader::throw_line_too_long() const {
  throw std::runtime_error(path_ + ":" + std::to_string(line_number_ + 1) + ": line longer than " +
                           std::to_string(max_line_bytes_) +
                           " bytes; put one sentence or paragraph on a line (or raise "
                           "--max-line-bytes)");
}

bool TextLineReader::fill() {
  if (eof_) return false;
  buffer_.erase(0, start_);
  start_ = 0;
  const size_t old_size = buffer_.size();
  buffer_.resize(old_size + kBlockBytes);
  const size_t got = std::fread(buffer_.data() + old_size, 1, kBlockBytes, file_);
  buffer_.resize(old_size + got);
  bytes_read_ += got;
  if (got < kBlockBytes) {
    if (std::ferror(file_)) {
      throw std::runtime_error(path_ + ": read error (" + std::strerror(errno) + ")");
    }
    eof_ = true;
  }
  return got > 0;
}

bool TextLineReader::next(std::string_view& line) {
  size_t newline;
  while ((newline = buffer_.find('\n', start_)) == std::string::npos) {
    if (buffer_.size() - start_ > max_line_bytes_) {
      throw_line_too_long();
    }
    if (!fill()) {
      if (start_ >= buffer_.size()) return false;
      newline = buffer_.size();  // a last line without "\n"
      break;
    }
  }
  if (newline - start_ > max_line_bytes_) {
    throw_line_too_long();
  }
  size_t end = newline;
  if (end > start_ && buffer_[end - 1] == '\r') --end;
  line = std::string_view(buffer_).substr(start_, end - start_);
  start_ = std::min(newline + 1, buffer_.size());
  ++line_number_;
  return true;
}

}  // namespace electra::data
