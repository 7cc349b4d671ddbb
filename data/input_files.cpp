#include "data/input_files.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

namespace electra::data {

namespace fs = std::filesystem;

std::vector<InputFile> list_input_files(const std::vector<std::string>& paths,
                                        const std::vector<std::string>& extensions) {
  if (paths.empty()) throw std::runtime_error("no input files given");
  std::vector<std::string> files;
  for (const auto& path : paths) {
    std::error_code error;
    if (fs::is_directory(path, error)) {
      std::vector<std::string> inside;
      for (const auto& entry : fs::recursive_directory_iterator(path)) {
        if (!entry.is_regular_file()) continue;
        const auto extension = entry.path().extension().string();
        if (!extensions.empty() &&
            std::find(extensions.begin(), extensions.end(), extension) == extensions.end()) {
          continue;
        }
        inside.push_back(entry.path().string());
      }
      if (inside.empty()) throw std::runtime_error(path + ": the folder holds no input files");
      std::sort(inside.begin(), inside.end());
      files.insert(files.end(), inside.begin(), inside.end());
    } else if (fs::exists(path, error)) {
      files.push_back(path);
    } else {
      throw std::runtime_error(path + ": no such file or folder (check --input)");
    }
  }
  std::vector<InputFile> inputs;
  long long total_bytes = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    std::error_code error;
    const auto bytes = (long long)fs::file_size(files[i], error);
    if (error) throw std::runtime_error(files[i] + ": cannot read its size: " + error.message());
    inputs.push_back({files[i], (long long)i, bytes});
    total_bytes += bytes;
  }
  if (total_bytes == 0) {
    throw std::runtime_error(paths.front() + ": the input is empty; nothing to read");
  }
  return inputs;
}

}  // namespace electra::data
