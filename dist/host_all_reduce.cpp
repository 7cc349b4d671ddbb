#include <mpi.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "dist/buffer_all_reduce.h"
#include "dist/mpi_check.h"
#include "dist/peer_watch.h"

namespace electra::dist {

namespace {

float bf16_to_float(uint16_t bits) {
  const uint32_t word = uint32_t(bits) << 16;
  float value;
  std::memcpy(&value, &word, sizeof value);
  return value;
}

uint16_t float_to_bf16(float value) {  // round to nearest even, NaN kept NaN
  uint32_t word;
  std::memcpy(&word, &value, sizeof word);
  if (std::isnan(value)) return uint16_t((word >> 16) | 0x40);
  word += 0x7FFF + ((word >> 16) & 1);
  return uint16_t(word >> 16);
}

// MPI has no bf16: the sum of two bf16 vectors (as MPI_UINT16_T), element by element in fp32.
void sum_bf16(void* in, void* inout, int* length, MPI_Datatype*) {
  const auto* a = static_cast<const uint16_t*>(in);
  auto* b = static_cast<uint16_t*>(inout);
  for (int i = 0; i < *length; ++i) b[i] = float_to_bf16(bf16_to_float(a[i]) + bf16_to_float(b[i]));
}

class MpiPendingSum final : public PendingSum {
 public:
  MpiPendingSum(std::vector<MPI_Request> requests, std::string what, PeerWatch& watch)
      : requests_(std::move(requests)), what_(std::move(what)), watch_(watch) {}
  ~MpiPendingSum() override {
    // Not waited for (an exception unwinds): complete it, or MPI would write into freed memory.
    try {
      wait();
    } catch (...) {  // the error that unwinds is the one reported
    }
  }
  void wait() override {
    std::vector<MPI_Request> requests = std::move(requests_);
    requests_.clear();
    if (requests.empty()) return;
    watch_.wait(requests.data(), int(requests.size()), "MPI_Iallreduce of " + what_);
  }

 private:
  std::vector<MPI_Request> requests_;
  std::string what_;
  PeerWatch& watch_;
};

class MpiAllReduce final : public BufferAllReduce {
 public:
  explicit MpiAllReduce(PeerWatch& watch) : watch_(watch) {
    ELECTRA_MPI_CHECK(MPI_Op_create(&sum_bf16, 1, &bf16_sum_));
  }
  ~MpiAllReduce() override { MPI_Op_free(&bf16_sum_); }

  std::unique_ptr<PendingSum> start_sum(void* data, size_t count, ElementType type, void*,
                                        const std::string& what) override {
    const bool bf16 = type == ElementType::kBfloat16;
    const size_t element_bytes = bf16 ? 2 : 4;
    constexpr size_t kMaxChunk = size_t(1) << 30;  // MPI counts are int
    std::vector<MPI_Request> requests;
    for (size_t offset = 0; offset < count; offset += kMaxChunk) {
      MPI_Request request;
      ELECTRA_MPI_CHECK(
          MPI_Iallreduce(MPI_IN_PLACE, static_cast<char*>(data) + offset * element_bytes,
                         int(std::min(kMaxChunk, count - offset)), bf16 ? MPI_UINT16_T : MPI_FLOAT,
                         bf16 ? bf16_sum_ : MPI_SUM, MPI_COMM_WORLD, &request));
      requests.push_back(request);
    }
    return std::make_unique<MpiPendingSum>(std::move(requests), what, watch_);
  }

  void progress() override {
    int flag = 0;  // any MPI call advances libnbc's schedules; a cheap probe is enough
    ELECTRA_MPI_CHECK(
        MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE));
  }

 private:
  MPI_Op bf16_sum_ = MPI_OP_NULL;
  PeerWatch& watch_;
};

class NothingToSum final : public PendingSum {
 public:
  void wait() override {}
};

class SingleProcessAllReduce final : public BufferAllReduce {
 public:
  std::unique_ptr<PendingSum> start_sum(void*, size_t, ElementType, void*,
                                        const std::string&) override {
    return std::make_unique<NothingToSum>();
  }
};

}  // namespace

std::unique_ptr<BufferAllReduce> make_host_all_reduce(Communicator& communicator) {
  if (communicator.size() == 1) return std::make_unique<SingleProcessAllReduce>();
  return std::make_unique<MpiAllReduce>(*communicator.peer_watch());
}

std::unique_ptr<PendingSum> BufferAllReduce::start_average(void*, size_t, ElementType, void*,
                                                           const std::string& what) {
  throw std::logic_error("start_average(" + what + ") on a backend that only sums");
}

}  // namespace electra::dist
