// Numbers as people read them in a command's lines.
#pragma once

#include <string>

namespace electra::data {

// "12,345,678"
inline std::string with_commas(long long value) {
  std::string digits = std::to_string(value < 0 ? -value : value), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return value < 0 ? "-" + out : out;
}

}  // namespace electra::data
