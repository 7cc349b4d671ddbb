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

// Text inputs (prepare --input, vocab --input): as list_input_files, but only text is read. In a
// folder, a file that is not text (a NUL byte in its first 8 KiB: HDF5 shards, archives, images)
// is skipped and counted, as is a folder holding a manifest.json (a prepared corpus: an earlier
// output), the folder EXCLUDE (this command's own output) and hidden entries (".name"). A file
// named as input that is not text is an error, as is a file given twice (directly or through its
// folder).
struct TextInputs {
  std::vector<InputFile> files;
  long long skipped_files = 0;    // not text
  long long skipped_corpora = 0;  // folders of shards (a manifest.json), this command's output
  // "skipped 1 file that is not text and 1 folder of shards" or "".
  std::string skipped_note() const;
};
TextInputs list_text_inputs(const std::vector<std::string>& paths, const std::string& exclude = "");

// Throws "SHOWN: a folder, not KIND" when PATH is a folder and "SHOWN: no such file" when it does
// not exist (SHOWN names the option too where there is one: "--config runs/x").
void check_input_file(const std::string& path, const std::string& shown,
                      const std::string& kind = "a file");

// Whether the file at PATH reads as text (no NUL byte in its first 8 KiB).
bool looks_like_text(const std::string& path);

}  // namespace electra::data
