// Outputs a command writes: checked before anything is written (a folder where a folder is
// wanted, a file where a file is), and locked for the command's lifetime so that a second writer
// fails at once naming the first (flock: released by the kernel when a holder dies, so a crashed
// or preempted job leaves no stale lock).
#pragma once

#include <string>
#include <vector>

#include "data/output_record.h"

namespace electra::data {

// The lock file inside an output folder; commands that look at a folder's contents skip it.
inline constexpr const char* kLockFile = ".electra.lock";

// Throws naming OPTION and PATH when PATH cannot be an output folder: it is a file, or one of its
// parents is ("--out runs/x: a file, not a folder").
void check_output_folder(const std::string& path, const std::string& option);
// The same for an output file: PATH is a folder, or one of its parents is a file.
void check_output_file(const std::string& path, const std::string& option);

// What a command reads, as an output must never be: the path itself and, for a folder (a model,
// a run), anything inside it. OPTION names it in messages ("--data").
struct CommandInput {
  std::string path;
  std::string option;
};

// Throws naming OPTION, PATH and the input when PATH is one of INPUTS (the same file, through any
// link) or lies inside one of them: whatever --overwrite says, a command never writes over what
// it reads.
void refuse_input_as_output(const std::string& path, const std::string& option,
                            const std::vector<CommandInput>& inputs);
// That, and an existing PATH refused unless OVERWRITE (what OutputLock::claim_file checks; for the
// ranks that do not write).
void check_output_claim(const std::string& path, const std::string& option,
                        const std::vector<CommandInput>& inputs, bool overwrite);

// Holds an exclusive lock for as long as it lives.
class OutputLock {
 public:
  // Creates folder DIR (and its parents) if needed and locks it through DIR/.electra.lock, which
  // then holds "PID COMMAND" (and is removed again when released, with DIR itself when the lock
  // made it and it is empty then). Throws naming OPTION, DIR and the holder's pid when another
  // process holds it.
  static OutputLock folder(const std::string& dir, const std::string& option,
                           const std::string& command);
  // Locks the output file PATH through PATH.lock beside it (removed again when released).
  static OutputLock file(const std::string& path, const std::string& option,
                         const std::string& command);
  // For a command that writes the file PATH: refuses a PATH that is one of INPUTS or inside one
  // (refuse_input_as_output), and an existing PATH unless OVERWRITE; then locks it.
  static OutputLock claim_file(const std::string& path, const std::string& option,
                               const std::string& command, const std::vector<CommandInput>& inputs,
                               bool overwrite);

  OutputLock() = default;
  OutputLock(OutputLock&& other) noexcept;
  OutputLock& operator=(OutputLock&& other) noexcept;
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;
  ~OutputLock();

  bool held() const { return fd_ >= 0; }

 private:
  static OutputLock take(const std::string& lock_path, const std::string& shown_path,
                         const std::string& option, const std::string& command);
  void release() noexcept;

  int fd_ = -1;
  std::string lock_path_;       // the lock file, removed on release
  std::string created_folder_;  // a folder lock's folder when it made it: removed if left empty
};

// For a command that writes its results into folder DIR (under DIR's lock), by DIR's record
// (output_record.h) of what it wrote there before:
// - DIR may not be one of INPUTS, lie inside one, or hold one (whatever --overwrite says, a
//   command never replaces what it reads);
// - anything under DIR that the record does not list is refused, named (a user's file, also
//   deep inside an output's subfolder, and everything in a folder without a record), and so is
//   the output of another command;
// - the command's own earlier output is refused unless OVERWRITE, and then removed (the results
//   and the manifest first, the record last), so that the folder never looks complete with a mix
//   of old and new. WHAT names it in the message ("an export").
// Returns DIR's new record, open: what the command now writes under DIR is listed in it.
OutputRecord claim_output_folder(const std::string& dir, const std::string& command,
                                 const std::string& what, const std::vector<CommandInput>& inputs,
                                 bool overwrite);

// The same for a command that continues its own unfinished output (an interrupted fine-tune):
// refuses as above, removes nothing, and returns the record open to be added to.
OutputRecord continue_output_folder(const std::string& dir, const std::string& command,
                                    const std::vector<CommandInput>& inputs);

}  // namespace electra::data
