// Expands the files and folders a user names into a numbered, sorted list of input files.
#pragma once

#include <string>
#include <vector>

namespace electra::data {

struct InputFile {
  std::string path;
  long long index = 0;  // position in the sorted list of all input files
  long long bytes = 0;
};

// Folders are searched recursively (files sorted by path); with `extensions` non-empty only files
// ending in one of them are taken from folders. Throws naming the path when it does not exist,
// when a folder holds no input or when all inputs together are empty.
std::vector<InputFile> list_input_files(const std::vector<std::string>& paths,
                                        const std::vector<std::string>& extensions = {});

}  // namespace electra::data
