#include "data/output_record.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace electra::data {

namespace fs = std::filesystem;

namespace {

constexpr const char* kHeader = "electra-output-record 1 ";
constexpr const char* kFileLine = "file ";
constexpr const char* kCompleteLine = "complete";

std::string record_name(int rank) {
  return rank == 0 ? std::string(kRecordFile)
                   : std::string(kRecordFile) + ".rank" + std::to_string(rank);
}

// One record file's lines (whole lines only: one cut short by a crash is dropped).
struct RecordFile {
  std::string command;
  std::vector<std::string> lines;
};

RecordFile read_record_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error(path.string() + ": cannot read it (" + std::strerror(errno) +
                             "); check its permissions");
  }
  std::stringstream text;
  text << in.rdbuf();
  std::string all = text.str();
  const size_t whole = all.rfind('\n');
  all.resize(whole == std::string::npos ? 0 : whole + 1);
  RecordFile record;
  std::istringstream lines(all);
  std::string line;
  const std::string header = kHeader;
  if (!std::getline(lines, line) || line.compare(0, header.size(), header) != 0 ||
      line.size() == header.size()) {
    throw std::runtime_error(path.string() +
                             ": not a record electra wrote (what a command wrote into this "
                             "folder); move it away or choose another folder");
  }
  record.command = line.substr(header.size());
  while (std::getline(lines, line)) record.lines.push_back(line);
  return record;
}

}  // namespace

fs::path resolved_path(const std::string& path) {
  std::error_code error;
  fs::path full = fs::weakly_canonical(fs::absolute(path, error), error);
  return error ? fs::absolute(path).lexically_normal() : full;
}

std::string relative_inside(const fs::path& path, const fs::path& folder) {
  const auto [end, at] = std::mismatch(folder.begin(), folder.end(), path.begin(), path.end());
  if (end != folder.end() || at == path.end()) return "";
  return path.lexically_relative(folder).generic_string();
}

bool is_record_file(const std::string& name) {
  const std::string base = kRecordFile;
  if (name == base) return true;
  const std::string rank = base + ".rank";
  return name.size() > rank.size() && name.compare(0, rank.size(), rank) == 0 &&
         std::all_of(name.begin() + long(rank.size()), name.end(), ::isdigit);
}

RecordedOutput read_output_record(const std::string& dir) {
  RecordedOutput recorded;
  std::error_code error;
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    if (is_record_file(name)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());  // rank 0's first
  for (const auto& name : names) {
    const fs::path path = fs::path(dir) / name;
    const RecordFile file = read_record_file(path);
    if (recorded.exists && file.command != recorded.command) {
      throw std::runtime_error(path.string() + ": says electra " + file.command +
                               " wrote this folder, another record says electra " +
                               recorded.command + "; move the folder away");
    }
    recorded.exists = true;
    recorded.command = file.command;
    for (const auto& line : file.lines) {
      const std::string prefix = kFileLine;
      if (line.compare(0, prefix.size(), prefix) == 0) {
        recorded.files.insert(line.substr(prefix.size()));
      } else if (line == kCompleteLine && name == kRecordFile) {
        recorded.complete = true;
      }
    }
  }
  return recorded;
}

void refuse_unfinished_output(const std::string& dir) {
  const fs::path folder = resolved_path(dir);
  for (const fs::path& holder : {folder, folder.parent_path()}) {
    std::error_code error;
    if (!fs::exists(holder / kRecordFile, error)) continue;
    const RecordedOutput recorded = read_output_record(holder.string());
    if (recorded.complete) continue;
    const std::string inside = holder == folder ? "" : folder.filename().string() + "/";
    const bool covers =
        inside.empty() ||
        std::any_of(recorded.files.begin(), recorded.files.end(), [&](const std::string& file) {
          return file.compare(0, inside.size(), inside) == 0;
        });
    if (!covers) continue;
    throw std::runtime_error(dir + ": unfinished: electra " + recorded.command +
                             " stopped or failed while writing it; run electra " +
                             recorded.command + " again (with --overwrite)");
  }
}

// ---- the open records of this process ----

struct OutputRecord::Open {
  fs::path dir;  // absolute, links resolved
  std::string path;
  int fd = -1;
  std::set<std::string> noted;
  bool completed = false;
  std::mutex mutex;

  void append(const std::string& line) {
    const std::string text = line + "\n";
    if (::write(fd, text.data(), text.size()) != ssize_t(text.size()) || ::fdatasync(fd) != 0) {
      throw std::runtime_error(path + ": cannot add to the record (" + std::strerror(errno) +
                               "); free disk space or check the permissions");
    }
  }
  ~Open() {
    if (fd >= 0) ::close(fd);
  }
};

namespace {

std::mutex& registry_mutex() {
  static std::mutex mutex;
  return mutex;
}

std::vector<std::weak_ptr<OutputRecord::Open>>& registry() {
  static std::vector<std::weak_ptr<OutputRecord::Open>> open;
  return open;
}

}  // namespace

OutputRecord::OutputRecord() = default;
OutputRecord::OutputRecord(OutputRecord&&) noexcept = default;
OutputRecord& OutputRecord::operator=(OutputRecord&&) noexcept = default;

OutputRecord::~OutputRecord() {
  if (!open_) return;
  // A record of nothing left (the command failed before writing, or removed what it wrote) is
  // not left behind: the folder stays as it was (and one the command's lock made is removed).
  if (!open_->completed) {
    std::error_code error;
    const bool any_left =
        std::any_of(open_->noted.begin(), open_->noted.end(), [&](const std::string& file) {
          const fs::path path = open_->dir / file;
          return fs::exists(path, error) || fs::exists(path.string() + ".tmp", error);
        });
    if (!any_left) ::unlink(open_->path.c_str());
  }
  std::lock_guard<std::mutex> lock(registry_mutex());
  auto& open = registry();
  open.erase(std::remove_if(open.begin(), open.end(),
                            [&](const std::weak_ptr<Open>& entry) {
                              const auto held = entry.lock();
                              return !held || held == open_;
                            }),
             open.end());
}

OutputRecord OutputRecord::open(const std::string& dir, const std::string& command, int rank) {
  auto record = std::make_shared<Open>();
  record->dir = resolved_path(dir);
  record->path = (fs::path(dir) / record_name(rank)).string();
  std::error_code error;
  const bool existed = fs::exists(record->path, error);
  if (existed) {
    const RecordFile earlier = read_record_file(record->path);
    if (earlier.command != command) {
      throw std::runtime_error(record->path + ": a record of electra " + earlier.command +
                               ", not of electra " + command + "; choose another --out");
    }
    for (const auto& line : earlier.lines) {
      if (line.compare(0, std::strlen(kFileLine), kFileLine) == 0) {
        record->noted.insert(line.substr(std::strlen(kFileLine)));
      }
    }
  }
  record->fd = ::open(record->path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (record->fd < 0) {
    throw std::runtime_error(record->path + ": cannot create the record of what electra " +
                             command + " writes (" + std::strerror(errno) +
                             "); check the folder's permissions");
  }
  if (!existed) record->append(kHeader + command);
  {
    std::lock_guard<std::mutex> lock(registry_mutex());
    registry().push_back(record);
  }
  OutputRecord opened;
  opened.open_ = std::move(record);
  return opened;
}

void OutputRecord::complete() {
  if (!open_) return;
  std::lock_guard<std::mutex> lock(open_->mutex);
  open_->append(kCompleteLine);
  open_->completed = true;
}

void note_written(const std::string& path) {
  std::error_code error;
  if (fs::is_directory(path, error)) {
    for (const auto& entry : fs::recursive_directory_iterator(path, error)) {
      if (!entry.is_directory(error)) note_written(entry.path().string());
    }
    return;
  }
  std::vector<std::shared_ptr<OutputRecord::Open>> open;
  {
    std::lock_guard<std::mutex> lock(registry_mutex());
    for (const auto& entry : registry()) {
      if (auto held = entry.lock()) open.push_back(held);
    }
  }
  if (open.empty()) return;
  const fs::path full = resolved_path(path);
  for (const auto& record : open) {
    const std::string relative = relative_inside(full, record->dir);
    if (relative.empty()) continue;
    std::lock_guard<std::mutex> lock(record->mutex);
    if (record->noted.insert(relative).second) record->append(kFileLine + relative);
  }
}

}  // namespace electra::data

namespace electra::data {

void note_moved(const std::string& from, const std::string& to) {
  std::error_code error;
  for (const auto& entry : fs::recursive_directory_iterator(from, error)) {
    if (entry.is_directory(error)) continue;
    note_written((fs::path(to) / entry.path().lexically_relative(from)).string());
  }
}

}  // namespace electra::data
