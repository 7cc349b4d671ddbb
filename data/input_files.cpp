#include "data/input_files.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

namespace electra::data {

namespace fs = std::filesystem;

namespace {

// FILES numbered in order with their sizes; throws naming FIRST_GIVEN when all are empty.
std::vector<InputFile> numbered_inputs(const std::vector<std::string>& files,
                                       const std::string& first_given) {
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
    throw std::runtime_error(first_given + ": the input is empty; nothing to read");
  }
  return inputs;
}

}  // namespace

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
  return numbered_inputs(files, paths.front());
}

void check_input_file(const std::string& path, const std::string& shown, const std::string& kind) {
  std::error_code error;
  const auto status = fs::status(path, error);
  if (fs::is_directory(status)) throw std::runtime_error(shown + ": a folder, not " + kind);
  if (!fs::exists(status)) {
    throw std::runtime_error(shown + ": no such file (check the path)");
  }
}

bool looks_like_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[8192];
  in.read(head, sizeof head);
  return std::find(head, head + in.gcount(), '\0') == head + in.gcount();
}

std::string TextInputs::skipped_note() const {
  std::string note;
  if (skipped_files) {
    note = std::to_string(skipped_files) +
           (skipped_files == 1 ? " file that is" : " files that are") + " not text";
  }
  if (skipped_corpora) {
    if (!note.empty()) note += " and ";
    note += std::to_string(skipped_corpora) +
            (skipped_corpora == 1 ? " folder of shards" : " folders of shards");
  }
  return note.empty() ? "" : "skipped " + note;
}

TextInputs list_text_inputs(const std::vector<std::string>& paths, const std::string& exclude) {
  if (paths.empty()) throw std::runtime_error("no input files given");
  TextInputs listing;
  std::error_code error;
  const fs::path excluded = exclude.empty() ? fs::path() : fs::weakly_canonical(exclude, error);
  std::map<fs::path, std::string> seen;  // canonical path -> how it was given
  std::vector<std::string> files;
  const auto take = [&](const fs::path& file, const std::string& given) {
    const fs::path canonical = fs::weakly_canonical(file, error);
    const auto [at, inserted] = seen.emplace(canonical, given);
    if (!inserted && at->second == given) {
      throw std::runtime_error("--input " + given + " is given twice; name each input once");
    }
    if (!inserted) {
      throw std::runtime_error("--input " + given + ": " + file.string() + " is also in --input " +
                               at->second + "; name each input once");
    }
    files.push_back(file.string());
  };
  for (const auto& path : paths) {
    if (fs::is_directory(path, error)) {
      std::vector<fs::path> inside;
      auto entry = fs::recursive_directory_iterator(path, error);
      if (error)
        throw std::runtime_error(path + ": cannot list the folder (" + error.message() + ")");
      for (; entry != fs::recursive_directory_iterator(); entry.increment(error)) {
        if (error)
          throw std::runtime_error(path + ": cannot list the folder (" + error.message() + ")");
        const fs::path& p = entry->path();
        const bool hidden = p.filename().string().rfind('.', 0) == 0;
        if (entry->is_directory(error)) {
          const bool own = !excluded.empty() && fs::weakly_canonical(p, error) == excluded;
          const bool corpus = fs::exists(p / "manifest.json", error);
          if (corpus && !own) ++listing.skipped_corpora;
          if (own || corpus || hidden) entry.disable_recursion_pending();
          continue;
        }
        if (hidden || !entry->is_regular_file(error)) continue;
        if (!looks_like_text(p.string())) {
          ++listing.skipped_files;
          continue;
        }
        inside.push_back(p);
      }
      if (inside.empty()) {
        throw std::runtime_error(
            path + ": the folder holds no text files" +
            (listing.skipped_note().empty() ? "" : " (" + listing.skipped_note() + ")"));
      }
      std::sort(inside.begin(), inside.end());
      for (const auto& file : inside) take(file, path);
    } else if (fs::exists(path, error)) {
      if (!looks_like_text(path)) {
        throw std::runtime_error(
            path + ": not a text file (it holds NUL bytes" +
            std::string(path.size() > 3 &&
                                (path.substr(path.size() - 3) == ".h5" ||
                                 path.size() > 5 && path.substr(path.size() - 5) == ".hdf5")
                            ? "; NVIDIA BERT shards go to --from-nvidia-shards"
                            : "") +
            "); --input takes text, one sentence or paragraph a line");
      }
      take(path, path);
    } else {
      throw std::runtime_error(path + ": no such file or folder (check --input)");
    }
  }
  listing.files = numbered_inputs(files, paths.front());
  return listing;
}

}  // namespace electra::data
