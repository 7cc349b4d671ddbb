// A library's own text (LibTorch, HDF5, nlohmann-json, std::filesystem) stays out of the one-line
// errors a user sees; ELECTRA_DEBUG=1 appends it for whoever debugs.
#pragma once

#include <cstdlib>
#include <cstring>
#include <string>

namespace electra::data {

inline bool debugging() {
  const char* value = std::getenv("ELECTRA_DEBUG");
  return value && *value && std::strcmp(value, "0") != 0;
}

// " [detail: TEXT]" under ELECTRA_DEBUG=1, else "".
inline std::string debug_detail(const std::string& text) {
  return debugging() ? " [detail: " + text + "]" : std::string();
}

}  // namespace electra::data
