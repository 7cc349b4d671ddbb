#include "dist/communicator.h"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "dist/buffer_all_reduce.h"
#include "dist/mpi_check.h"
#include "dist/peer_watch.h"

namespace electra::dist {

void throw_mpi_error(int code, const char* call, const char* file, int line) {
  char message[MPI_MAX_ERROR_STRING] = {0};
  int length = 0;
  MPI_Error_string(code, message, &length);
  int rank = -1, initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  throw std::runtime_error("rank " + std::to_string(rank) + ": " + call + " failed at " + file +
                           ":" + std::to_string(line) + ": " + message);
}

namespace {

class SingleProcessCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int local_rank() const override { return 0; }
  int local_size() const override { return 1; }
  void barrier() override {}
  bool all_ok(bool ok) override { return ok; }
  std::vector<std::string> gather_to_root(const std::string& value) override { return {value}; }

  std::string broadcast_from_root(const std::string& value) override { return value; }
  void all_reduce_sum(float*, size_t) override {}
  void all_reduce_sum(double*, size_t) override {}
  [[noreturn]] void abort(int code) override { std::exit(code); }
};

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    int initialized = 0;
    ELECTRA_MPI_CHECK(MPI_Initialized(&initialized));
    if (!initialized) {
      int provided = 0;
      ELECTRA_MPI_CHECK(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided));
      owns_mpi_ = true;
    }
    ELECTRA_MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    ELECTRA_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
    ELECTRA_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size_));
    watch_ = std::make_unique<PeerWatch>(MPI_COMM_WORLD);
    // The ranks of this node: those of this rank's host name, from the watch's exchange (under
    // the deadline; MPI_Comm_split_type would block without one).
    const std::vector<std::string>& hosts = watch_->hosts();
    local_rank_ = local_size_ = 0;
    for (int r = 0; r < size_; ++r) {
      if (hosts[size_t(r)] != hosts[size_t(rank_)]) continue;
      if (r < rank_) ++local_rank_;
      ++local_size_;
    }
  }
  ~MpiCommunicator() override {
    watch_.reset();
    if (owns_mpi_) MPI_Finalize();
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_size() const override { return local_size_; }

  void barrier() override {
    MPI_Request request;
    ELECTRA_MPI_CHECK(MPI_Ibarrier(MPI_COMM_WORLD, &request));
    wait(request, "MPI_Ibarrier");
  }

  bool all_ok(bool ok) override {
    int mine = ok ? 1 : 0, all = 0;
    MPI_Request request;
    ELECTRA_MPI_CHECK(MPI_Iallreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD, &request));
    wait(request, "MPI_Iallreduce (all ranks ok?)");
    return all == 1;
  }

  std::vector<std::string> gather_to_root(const std::string& value) override {
    int length = int(value.size());
    std::vector<int> lengths(size_t(size_), 0);
    MPI_Request request;
    ELECTRA_MPI_CHECK(
        MPI_Igather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, 0, MPI_COMM_WORLD, &request));
    wait(request, "MPI_Igather");
    std::vector<int> offsets(size_t(size_), 0);
    int total = 0;
    for (int r = 0; r < size_; ++r) offsets[size_t(r)] = total, total += lengths[size_t(r)];
    std::string all(size_t(rank_ == 0 ? total : 0), '\0');
    ELECTRA_MPI_CHECK(MPI_Igatherv(value.data(), length, MPI_CHAR, all.data(), lengths.data(),
                                   offsets.data(), MPI_CHAR, 0, MPI_COMM_WORLD, &request));
    wait(request, "MPI_Igatherv");
    if (rank_ != 0) return {};
    std::vector<std::string> values;
    for (int r = 0; r < size_; ++r) {
      values.push_back(all.substr(size_t(offsets[size_t(r)]), size_t(lengths[size_t(r)])));
    }
    return values;
  }

  void all_reduce_sum(float* data, size_t count) override { sum_in_place(data, count, MPI_FLOAT); }
  void all_reduce_sum(double* data, size_t count) override {
    sum_in_place(data, count, MPI_DOUBLE);
  }

  [[noreturn]] void abort(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::exit(code);  // MPI_Abort does not return; this satisfies [[noreturn]]
  }

  void set_peer_timeout(double seconds) override { watch_->set_timeout(seconds); }
  void set_step(long long step) override { watch_->set_step(step); }
  PeerWatch* peer_watch() override { return watch_.get(); }

  template <typename T>
  void sum_in_place(T* data, size_t count, MPI_Datatype type) {
    constexpr size_t kMaxChunk = size_t(1) << 30;  // MPI counts are int
    for (size_t offset = 0; offset < count; offset += kMaxChunk) {
      const int chunk = int(std::min(kMaxChunk, count - offset));
      MPI_Request request;
      ELECTRA_MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, data + offset, chunk, type, MPI_SUM,
                                       MPI_COMM_WORLD, &request));
      wait(request, "MPI_Iallreduce");
    }
  }

  std::string broadcast_from_root(const std::string& value) override {
    unsigned long long length = value.size();
    MPI_Request request;
    ELECTRA_MPI_CHECK(MPI_Ibcast(&length, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD, &request));
    wait(request, "MPI_Ibcast");
    std::string result = rank_ == 0 ? value : std::string(size_t(length), '\0');
    ELECTRA_MPI_CHECK(
        MPI_Ibcast(result.data(), int(length), MPI_CHAR, 0, MPI_COMM_WORLD, &request));
    wait(request, "MPI_Ibcast");
    return result;
  }

 private:
  void wait(MPI_Request& request, const char* what) { watch_->wait(&request, 1, what); }

  std::unique_ptr<PeerWatch> watch_;
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
  bool owns_mpi_ = false;
};

}  // namespace

bool launched_by_mpi() {
  for (const char* variable : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"}) {
    if (std::getenv(variable)) return true;
  }
  return false;
}

std::unique_ptr<Communicator> make_world_communicator() {
  if (launched_by_mpi()) return std::make_unique<MpiCommunicator>();
  return std::make_unique<SingleProcessCommunicator>();
}

std::unique_ptr<Communicator> make_single_process_communicator() {
  return std::make_unique<SingleProcessCommunicator>();
}

NamedWaits::NamedWaits(Communicator& communicator, std::string name)
    : watch_(communicator.peer_watch()) {
  if (!watch_) return;
  previous_ = watch_->operation();
  watch_->set_operation(std::move(name));
}

NamedWaits::~NamedWaits() {
  if (watch_) watch_->set_operation(std::move(previous_));
}

std::string rank_prefix(const Communicator& communicator) {
  return communicator.size() > 1 ? "rank " + std::to_string(communicator.rank()) + ": " : "";
}

}  // namespace electra::dist
