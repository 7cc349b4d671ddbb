// What a command wrote into its output folder, so that a later run replaces only that: the record
// `DIR/.electra-written` lists, one per line, every file the command created under DIR (each
// named before its first byte is written), and ends with "complete" once the command finished.
// --overwrite removes what the record lists and nothing else; a file the record does not list
// (a user's notes, a file named like a shard) is the user's; a record without "complete" is an
// output that a killed or failed command left unfinished.
//
// Writers need not know about it: while a record is open for DIR, every file written under DIR
// through AtomicFileWriter or ShardWriter is added to it (note_written).
#pragma once

#include <filesystem>
#include <memory>
#include <set>
#include <string>

namespace electra::data {

inline constexpr const char* kRecordFile = ".electra-written";

// PATH made absolute with its existing part's links resolved (the rest kept as written).
std::filesystem::path resolved_path(const std::string& path);
// PATH relative to FOLDER ("a/b") when it lies inside it, else "".
std::string relative_inside(const std::filesystem::path& path, const std::filesystem::path& folder);

// Whether NAME (a file name, no folder) is a record: `.electra-written` (rank 0's) or
// `.electra-written.rank<N>` (another rank's, for commands whose ranks write into one folder).
bool is_record_file(const std::string& name);

// What the records of folder DIR say.
struct RecordedOutput {
  bool exists = false;          // DIR has a record
  std::string command;          // the command that wrote it ("export")
  std::set<std::string> files;  // paths relative to DIR ("discriminator/config.json")
  bool complete = false;        // the command finished
};

// DIR's records read (rank 0's and every other rank's); a line cut short by a crash is ignored.
// Throws naming the record when it cannot be read or is not one.
RecordedOutput read_output_record(const std::string& dir);

// Throws naming DIR when DIR (or, for a model folder inside an export, its parent) holds a record
// of a command that did not finish: a killed export, a failed prepare.
void refuse_unfinished_output(const std::string& dir);

// DIR's record, open for the command's lifetime. Opening it makes this process add every file
// it writes under DIR to it.
class OutputRecord {
 public:
  // Starts DIR's record for COMMAND (a new one; an earlier record of the same command is kept
  // and added to, as when an interrupted fine-tune continues). RANK > 0 writes its own record
  // beside rank 0's.
  static OutputRecord open(const std::string& dir, const std::string& command, int rank = 0);

  OutputRecord();
  OutputRecord(OutputRecord&&) noexcept;
  OutputRecord& operator=(OutputRecord&&) noexcept;
  ~OutputRecord();  // stops recording (the record stays)

  // Appends "complete": the command's output is whole.
  void complete();

  struct Open;  // the record file, its folder and what it lists

 private:
  std::shared_ptr<Open> open_;
};

// Adds PATH (a file; a folder: every file under it) to the record of the open output folder it
// lies in (none: nothing happens). Called by the writers before they create PATH.
void note_written(const std::string& path);
// Before folder FROM is renamed to TO: every file under FROM noted under its name in TO.
void note_moved(const std::string& from, const std::string& to);

}  // namespace electra::data
