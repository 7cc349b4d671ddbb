// Elapsed time, and how the lines of a rank that gives up print seconds ("0.37 s", "300 s"):
// shared by the peer watch and its background waits.
#pragma once

#include <chrono>
#include <sstream>
#include <string>

namespace electra::dist {

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

inline std::string seconds_text(double seconds) {
  std::ostringstream text;
  text << std::fixed;
  text.precision(seconds < 10 ? 2 : 0);
  text << seconds << " s";
  return text.str();
}

}  // namespace electra::dist
