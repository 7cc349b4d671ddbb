// UTF-8 decoding that never fails: invalid sequences become U+FFFD and are counted.
#pragma once

#include <cstdint>
#include <string>

namespace electra::data {

constexpr char32_t kReplacementChar = 0xFFFD;

// Decodes one code point at `p` (p < end) and advances `p`. An invalid or truncated sequence
// (bad lead byte, bad continuation, overlong form, surrogate, > U+10FFFF) consumes its maximal
// invalid prefix, returns U+FFFD and increments `invalid`.
inline char32_t decode_utf8(const char*& p, const char* end, uint64_t& invalid) {
  auto byte = [](const char* q) { return static_cast<unsigned char>(*q); };
  unsigned char b0 = byte(p);
  if (b0 < 0x80) return ++p, b0;
  int length;
  char32_t c;
  char32_t min_value;
  if (b0 >= 0xC2 && b0 <= 0xDF)
    length = 2, c = b0 & 0x1F, min_value = 0x80;
  else if (b0 >= 0xE0 && b0 <= 0xEF)
    length = 3, c = b0 & 0x0F, min_value = 0x800;
  else if (b0 >= 0xF0 && b0 <= 0xF4)
    length = 4, c = b0 & 0x07, min_value = 0x10000;
  else
    return ++p, ++invalid, kReplacementChar;
  const char* q = p + 1;
  for (int i = 1; i < length; ++i, ++q) {
    if (q >= end || (byte(q) & 0xC0) != 0x80) {
      p = q, ++invalid;
      return kReplacementChar;
    }
    c = (c << 6) | (byte(q) & 0x3F);
  }
  p = q;
  if (c < min_value || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
    ++invalid;
    return kReplacementChar;
  }
  return c;
}

inline void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(char(c));
  } else if (c < 0x800) {
    out.push_back(char(0xC0 | (c >> 6)));
    out.push_back(char(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(char(0xE0 | (c >> 12)));
    out.push_back(char(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(char(0x80 | (c & 0x3F)));
  } else {
    out.push_back(char(0xF0 | (c >> 18)));
    out.push_back(char(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(char(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(char(0x80 | (c & 0x3F)));
  }
}

// Number of code points in valid UTF-8 (continuation bytes are not counted).
inline size_t count_code_points(const char* p, size_t size) {
  size_t n = 0;
  for (size_t i = 0; i < size; ++i) n += (static_cast<unsigned char>(p[i]) & 0xC0) != 0x80;
  return n;
}

}  // namespace electra::data
