// Reads a text file line by line in large blocks. Lines longer than a limit are refused with the
// file and line number (a corpus is one sentence or paragraph a line; a multi-megabyte line is
// almost always a file in the wrong format).
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace electra::data {

class TextLineReader {
 public:
  TextLineReader(std::string path, size_t max_line_bytes);
  ~TextLineReader();
  TextLineReader(const TextLineReader&) = delete;
  TextLineReader& operator=(const TextLineReader&) = delete;

  // The next line without its "\n" (and "\r"); false at the end of the file.
  bool next(std::string_view& line);
  size_t bytes_read() const { return bytes_read_; }
  size_t line_number() const { return line_number_; }  // of the last line returned
  size_t file_size() const { return file_size_; }

 private:
  bool fill();
  [[noreturn]] void throw_line_too_long() const;

  std::string path_;
  size_t max_line_bytes_;
  std::FILE* file_ = nullptr;
  std::string buffer_;
  size_t start_ = 0;  // of the unread part of buffer_
  bool eof_ = false;
  size_t bytes_read_ = 0, line_number_ = 0, file_size_ = 0;
};

}  // namespace electra::data
