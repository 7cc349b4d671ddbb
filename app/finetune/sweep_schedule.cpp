#include "app/finetune/sweep_schedule.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace electra::finetune {

namespace fs = std::filesystem;

std::string cell_claims_dir(const std::string& out_dir) {
  return (fs::path(out_dir) / ".sweep-claims").string();
}

void reset_cell_claims(const std::string& out_dir) {
  const std::string dir = cell_claims_dir(out_dir);
  std::error_code error;
  fs::remove_all(dir, error);
  if (!error) fs::create_directories(dir, error);
  if (error) {
    throw std::runtime_error(dir + ": cannot make the sweep's cell claims folder (" +
                             error.message() + "); check --out's permissions and free space");
  }
}

void check_cell_claims_visible(const std::string& out_dir) {
  const std::string dir = cell_claims_dir(out_dir);
  std::error_code error;
  if (!fs::is_directory(dir, error)) {
    throw std::runtime_error(dir +
                             ": not visible on this rank's host; a sweep's --out must be on a "
                             "filesystem every rank shares (rank 0 made it there)");
  }
}

bool claim_cell(const std::string& out_dir, size_t cell) {
  const std::string path = (fs::path(cell_claims_dir(out_dir)) / std::to_string(cell)).string();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ::close(fd);
    return true;
  }
  if (errno == EEXIST) return false;
  throw std::runtime_error(path + ": cannot claim the cell (" + std::strerror(errno) +
                           "); this rank takes no more cells");
}

void wait_for_every_rank(const std::string& out_dir, int rank, int size) {
  const fs::path dir = cell_claims_dir(out_dir);
  const std::string mine = (dir / ("done-" + std::to_string(rank))).string();
  const int fd = ::open(mine.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw std::runtime_error(mine + ": cannot write (" + std::strerror(errno) +
                             "); the other ranks would wait for it");
  }
  ::close(fd);
  for (;;) {
    int done = 0;
    for (int r = 0; r < size; ++r) {
      std::error_code error;
      if (fs::exists(dir / ("done-" + std::to_string(r)), error)) ++done;
    }
    if (done == size) return;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

void remove_cell_claims(const std::string& out_dir) {
  std::error_code error;
  fs::remove_all(cell_claims_dir(out_dir), error);
}

std::vector<size_t> largest_first(const std::vector<double>& costs) {
  std::vector<size_t> order(costs.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return costs[a] > costs[b]; });
  return order;
}

}  // namespace electra::finetune
