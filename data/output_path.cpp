#include "data/output_path.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <stdexcept>

namespace electra::data {

namespace fs = std::filesystem;

namespace {

// The nearest existing ancestor of PATH that is not a folder, or "".
std::string file_among_parents(const fs::path& path) {
  std::error_code error;
  for (fs::path parent = path.parent_path(); !parent.empty() && parent != parent.root_path();
       parent = parent.parent_path()) {
    const auto status = fs::status(parent, error);
    if (fs::exists(status)) return fs::is_directory(status) ? "" : parent.string();
  }
  return "";
}

std::string errno_text() {
  return std::strerror(errno);
}

}  // namespace

void check_output_folder(const std::string& path, const std::string& option) {
  std::error_code error;
  const auto status = fs::status(path, error);
  if (fs::exists(status) && !fs::is_directory(status)) {
    throw std::runtime_error(option + " " + path + ": a file, not a folder; choose another " +
                             option);
  }
  if (const std::string file = file_among_parents(path); !file.empty()) {
    throw std::runtime_error(option + " " + path + ": " + file + " is a file; choose another " +
                             option);
  }
}

void check_output_file(const std::string& path, const std::string& option) {
  std::error_code error;
  if (fs::is_directory(path, error)) {
    throw std::runtime_error(option + " " + path + ": a folder, not a file; name a file");
  }
  if (const std::string file = file_among_parents(fs::path(path)); !file.empty()) {
    throw std::runtime_error(option + " " + path + ": " + file + " is a file; choose another " +
                             option);
  }
}

namespace {

bool same_file(const std::string& a, const std::string& b) {
  std::error_code error;
  return fs::exists(a, error) && fs::exists(b, error) && fs::equivalent(a, b, error) && !error;
}

bool inside(const fs::path& path, const fs::path& folder) {
  return !relative_inside(path, folder).empty();
}

}  // namespace

void refuse_input_as_output(const std::string& path, const std::string& option,
                            const std::vector<CommandInput>& inputs) {
  const fs::path output = resolved_path(path);
  for (const auto& input : inputs) {
    if (input.path.empty()) continue;
    const fs::path read = resolved_path(input.path);
    if (same_file(path, input.path) || output == read) {
      throw std::runtime_error(option + " " + path + ": is also the input " + input.option + " " +
                               input.path + "; choose another " + option);
    }
    std::error_code error;
    if (fs::is_directory(read, error) && inside(output, read)) {
      throw std::runtime_error(option + " " + path + ": inside the input " + input.option + " " +
                               input.path + "; choose a path outside it");
    }
  }
}

void check_output_claim(const std::string& path, const std::string& option,
                        const std::vector<CommandInput>& inputs, bool overwrite) {
  refuse_input_as_output(path, option, inputs);
  std::error_code error;
  if (fs::exists(path, error) && !overwrite) {
    throw std::runtime_error(option + " " + path + ": exists; choose another " + option +
                             " or pass --overwrite");
  }
}

OutputLock OutputLock::claim_file(const std::string& path, const std::string& option,
                                  const std::string& command,
                                  const std::vector<CommandInput>& inputs, bool overwrite) {
  refuse_input_as_output(path, option, inputs);
  OutputLock lock = file(path, option, command);
  check_output_claim(path, option, inputs, overwrite);  // under the lock
  return lock;
}

OutputLock OutputLock::folder(const std::string& dir, const std::string& option,
                              const std::string& command) {
  check_output_folder(dir, option);
  std::error_code error;
  const bool existed = fs::exists(dir, error);
  fs::create_directories(dir, error);
  if (error) {
    throw std::runtime_error(option + " " + dir + ": cannot create the folder (" + error.message() +
                             ")");
  }
  OutputLock lock = take((fs::path(dir) / kLockFile).string(), dir, option, command);
  if (!existed) lock.created_folder_ = dir;  // removed again if nothing was written into it
  return lock;
}

OutputLock OutputLock::file(const std::string& path, const std::string& option,
                            const std::string& command) {
  check_output_file(path, option);
  const fs::path parent = fs::path(path).parent_path();
  std::error_code error;
  if (!parent.empty()) fs::create_directories(parent, error);
  if (error) {
    throw std::runtime_error(option + " " + path + ": cannot create its folder (" +
                             error.message() + ")");
  }
  return take(path + ".lock", path, option, command);
}

namespace {

// flock(2); where the file system has no flock (Lustre mounted without -o flock, some FUSE),
// a POSIX record lock over the whole file (NFS's lockd serves those); where neither exists, a
// warning and no lock. False with errno EWOULDBLOCK when another process holds it.
bool lock_exclusively(int fd) {
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return true;
  if (errno != ENOSYS && errno != EOPNOTSUPP && errno != ENOLCK && errno != EINVAL) return false;
  struct flock whole {};
  whole.l_type = F_WRLCK, whole.l_whence = SEEK_SET, whole.l_start = 0, whole.l_len = 0;
  if (::fcntl(fd, F_SETLK, &whole) == 0) return true;
  if (errno == EACCES || errno == EAGAIN) {
    errno = EWOULDBLOCK;
    return false;
  }
  static bool warned = false;
  if (!warned) {
    std::fprintf(stderr,
                 "electra: warning: this file system has no file locks; nothing stops a second "
                 "writer of this output\n");
    warned = true;
  }
  return true;
}

}  // namespace

OutputLock OutputLock::take(const std::string& lock_path, const std::string& shown_path,
                            const std::string& option, const std::string& command) {
  for (int attempt = 0;; ++attempt) {
    const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 && errno == ENOENT && attempt < 100) {
      // A holder that had created the folder removed it, empty, as it ended: make it again.
      std::error_code error;
      fs::create_directories(fs::path(lock_path).parent_path(), error);
      continue;
    }
    if (fd < 0) {
      throw std::runtime_error(option + " " + shown_path + ": cannot create the lock file " +
                               lock_path + " (" + errno_text() + ")");
    }
    if (!lock_exclusively(fd)) {
      const int reason = errno;
      char holder[128] = {};
      const ssize_t got = ::pread(fd, holder, sizeof holder - 1, 0);
      ::close(fd);
      if (reason != EWOULDBLOCK) {
        throw std::runtime_error(option + " " + shown_path + ": cannot lock " + lock_path + " (" +
                                 std::strerror(reason) + ")");
      }
      std::string text(holder, size_t(std::max<ssize_t>(got, 0)));
      text = text.substr(0, text.find('\n'));
      const size_t space = text.find(' ');
      const std::string pid = text.substr(0, space);
      const std::string who = space == std::string::npos ? "" : text.substr(space + 1);
      throw std::runtime_error(option + " " + shown_path + ": being written by process " +
                               (pid.empty() ? std::string("(unknown)") : pid) +
                               (who.empty() ? "" : " (" + who + ")") +
                               "; wait for it to end or choose another " + option);
    }
    // The holder before us removes the file as it ends: a lock on a removed file holds nothing.
    struct stat held {
    }, named{};
    if (::fstat(fd, &held) != 0 || ::stat(lock_path.c_str(), &named) != 0 ||
        held.st_ino != named.st_ino || held.st_dev != named.st_dev) {
      ::close(fd);
      if (attempt < 100) continue;
      throw std::runtime_error(option + " " + shown_path + ": cannot hold the lock file " +
                               lock_path + " (it keeps being replaced)");
    }
    const std::string mine = std::to_string(::getpid()) + " " + command + "\n";
    if (::ftruncate(fd, 0) != 0 ||
        ::pwrite(fd, mine.data(), mine.size(), 0) != ssize_t(mine.size())) {
      const std::string reason = errno_text();
      ::close(fd);
      throw std::runtime_error(option + " " + shown_path + ": cannot write the lock file " +
                               lock_path + " (" + reason + ")");
    }
    OutputLock lock;
    lock.fd_ = fd;
    lock.lock_path_ = lock_path;
    return lock;
  }
}

OutputLock::OutputLock(OutputLock&& other) noexcept
    : fd_(other.fd_),
      lock_path_(std::move(other.lock_path_)),
      created_folder_(std::move(other.created_folder_)) {
  other.fd_ = -1;
  other.lock_path_.clear();
  other.created_folder_.clear();
}

OutputLock& OutputLock::operator=(OutputLock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = other.fd_;
    lock_path_ = std::move(other.lock_path_);
    created_folder_ = std::move(other.created_folder_);
    other.fd_ = -1;
    other.lock_path_.clear();
    other.created_folder_.clear();
  }
  return *this;
}

OutputLock::~OutputLock() {
  release();
}

void OutputLock::release() noexcept {
  if (fd_ < 0) return;
  // Removed while still held: a process that opened it meanwhile and locks it after us sees
  // that the name no longer leads to it (take() checks) and starts again.
  if (!lock_path_.empty()) ::unlink(lock_path_.c_str());
  ::close(fd_);
  fd_ = -1;
  // A folder this lock made and nothing else filled (the command failed before writing): gone
  // again, so that a refused command leaves no trace. rmdir leaves a folder that is not empty.
  if (!created_folder_.empty()) ::rmdir(created_folder_.c_str());
  created_folder_.clear();
}

namespace {

// DIR as an output folder against the command's inputs: not one of them, not inside one, and
// holding none.
void refuse_inputs_around(const std::string& dir, const std::vector<CommandInput>& inputs) {
  refuse_input_as_output(dir, "--out", inputs);
  const fs::path folder = resolved_path(dir);
  for (const auto& input : inputs) {
    if (input.path.empty()) continue;
    if (inside(resolved_path(input.path), folder)) {
      throw std::runtime_error("--out " + dir + ": holds the input " + input.option + " " +
                               input.path + "; choose an --out that does not");
    }
  }
}

// What lies under DIR: the files the record lists (and their temporaries), and the rest.
struct FolderContents {
  std::vector<std::string> recorded, foreign;  // relative paths, sorted
};

bool lists(const RecordedOutput& record, const std::string& relative) {
  if (record.files.count(relative)) return true;
  const std::string temp = ".tmp";
  return relative.size() > temp.size() &&
         relative.compare(relative.size() - temp.size(), temp.size(), temp) == 0 &&
         record.files.count(relative.substr(0, relative.size() - temp.size()));
}

bool holds_listed(const RecordedOutput& record, const std::string& folder) {
  const std::string prefix = folder + "/";
  const auto at = record.files.lower_bound(prefix);
  return at != record.files.end() && at->compare(0, prefix.size(), prefix) == 0;
}

void sort_contents(const fs::path& dir, const std::string& relative, const RecordedOutput& record,
                   FolderContents& contents) {
  std::error_code error;
  fs::directory_iterator entries(dir / relative, error);
  if (error) {
    throw std::runtime_error((dir / relative).string() + ": cannot list the folder (" +
                             error.message() + "); check its permissions");
  }
  for (const auto& entry : entries) {
    const std::string name = entry.path().filename().string();
    if (relative.empty() && (name == kLockFile || is_record_file(name))) continue;
    const std::string path = relative.empty() ? name : relative + "/" + name;
    if (entry.is_directory(error) && !entry.is_symlink(error)) {
      if (holds_listed(record, path)) {
        sort_contents(dir, path, record, contents);
      } else {
        contents.foreign.push_back(path);
      }
    } else {
      (lists(record, path) ? contents.recorded : contents.foreign).push_back(path);
    }
  }
}

FolderContents folder_contents(const std::string& dir, const RecordedOutput& record) {
  FolderContents contents;
  sort_contents(fs::path(dir), "", record, contents);
  std::sort(contents.recorded.begin(), contents.recorded.end());
  std::sort(contents.foreign.begin(), contents.foreign.end());
  return contents;
}

// The record of DIR, refused when it is another command's or DIR holds anything it does not
// list.
std::pair<RecordedOutput, FolderContents> checked_contents(const std::string& dir,
                                                           const std::string& command) {
  const RecordedOutput record = read_output_record(dir);
  if (record.exists && record.command != command) {
    throw std::runtime_error(dir + ": holds the output of electra " + record.command +
                             "; choose another --out");
  }
  FolderContents contents = folder_contents(dir, record);
  const auto& foreign = contents.foreign;
  if (!foreign.empty()) {
    throw std::runtime_error(
        (fs::path(dir) / foreign.front()).string() + ": not written by electra " + command +
        (foreign.size() > 1 ? " (nor " + std::to_string(foreign.size() - 1) + " more there)" : "") +
        (record.exists ? "" : " (" + dir + " has no record of what electra wrote there)") +
        "; move it away or choose another --out (--overwrite replaces only what electra " +
        command + " wrote)");
  }
  return {record, std::move(contents)};
}

void remove_or_throw(const fs::path& path) {
  std::error_code error;
  fs::remove(path, error);
  if (error) {
    throw std::runtime_error(path.string() + ": cannot remove it (" + error.message() + ")");
  }
}

// Removes the files the record lists (the top level's .json first: results, manifests), then the
// folders they leave empty, then the records.
void remove_recorded(const std::string& dir, const FolderContents& contents) {
  const fs::path root(dir);
  auto is_top_json = [](const std::string& path) {
    return path.find('/') == std::string::npos && path.size() > 5 &&
           path.compare(path.size() - 5, 5, ".json") == 0;
  };
  for (const auto& path : contents.recorded)
    if (is_top_json(path)) remove_or_throw(root / path);
  std::set<std::string> folders;
  for (const auto& path : contents.recorded) {
    if (!is_top_json(path)) remove_or_throw(root / path);
    for (fs::path folder = fs::path(path).parent_path(); !folder.empty();
         folder = folder.parent_path()) {
      folders.insert(folder.generic_string());
    }
  }
  for (auto folder = folders.rbegin(); folder != folders.rend(); ++folder) {  // deepest first
    std::error_code error;
    fs::remove(root / *folder, error);  // only when empty
  }
}

void remove_records(const std::string& dir) {
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    if (is_record_file(entry.path().filename().string())) remove_or_throw(entry.path());
  }
}

}  // namespace

OutputRecord claim_output_folder(const std::string& dir, const std::string& command,
                                 const std::string& what, const std::vector<CommandInput>& inputs,
                                 bool overwrite) {
  refuse_inputs_around(dir, inputs);
  const auto [record, contents] = checked_contents(dir, command);
  if (!contents.recorded.empty()) {
    if (!overwrite) {
      throw std::runtime_error(
          dir + ": holds " + what +
          (record.complete ? "" : " that was not finished (stopped or failed)") +
          "; choose another --out or pass --overwrite");
    }
    remove_recorded(dir, contents);
  }
  remove_records(dir);
  return OutputRecord::open(dir, command);
}

OutputRecord continue_output_folder(const std::string& dir, const std::string& command,
                                    const std::vector<CommandInput>& inputs) {
  refuse_inputs_around(dir, inputs);
  checked_contents(dir, command);
  return OutputRecord::open(dir, command);
}

}  // namespace electra::data
