// Writing a file so that readers see the old content or the whole new one, never a part.
#pragma once

#include <string>
#include <string_view>

namespace electra::data {

// Writes `bytes` to "<path>.tmp", then renames it to `path`; throws naming the file.
void write_file_atomically(const std::string& path, std::string_view bytes);

}  // namespace electra::data
