// The host's share of each training step, done ahead on a thread of its own while the device runs
// the steps before: the step's micro-batches from the loader (the next epoch started where one
// ends), the rows' random keys, the whole-word choice or each row's masked-position count, and
// the step's token counts on this rank. The trainer's thread then only adds the counts over the
// ranks (MPI is called from that thread alone), copies the batch to the device and launches.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "app/train/batch_staging.h"
#include "app/train/masking.h"
#include "data/batch_loader.h"

namespace electra::train {

struct StepBatchOptions {
  int rank = 0, world = 1;
  long long batch_size = 1, grad_accum = 1;
  uint64_t seed = 0;
  MaskingOptions masking;
  std::vector<uint8_t> continuation;  // whole-word masking: [token id] 1 for a ## piece; else empty
  size_t steps_ahead = 2;
};

// Row i of rank r in micro-batch m of step s: key (seed, s, m * W * b + r * b + i), its slot in the
// step's global batch — the same whether the batch is split across ranks or micro-batches.
std::vector<uint64_t> train_row_keys(const StepBatchOptions& options, long long step,
                                     long long micro);

// One step's batches, ready for the device but for the denominators (which need every rank).
struct PreparedStep {
  long long step = 0;
  std::vector<data::RowBatch> micro_rows;  // [grad_accum]
  std::vector<HostBatchInfo> infos;        // [grad_accum], denominators still 0
  double counts[2] = {0, 0};               // this rank's masked positions and real tokens
  long long epoch = 0, epoch_rows = 0;     // the training position after this step's rows
};

class StepBatches {
 public:
  // Starts preparing step `first_step` at row `epoch_rows` of epoch `epoch`. The loader is this
  // object's alone while it lives (its constant sizes may be read elsewhere).
  StepBatches(data::BatchLoader& loader, StepBatchOptions options, long long first_step,
              long long epoch, long long epoch_rows);
  ~StepBatches();  // stops the thread
  StepBatches(const StepBatches&) = delete;
  StepBatches& operator=(const StepBatches&) = delete;

  // The next step's batches, waiting for them if the thread is behind; rethrows its error.
  PreparedStep next();
  // Steps prepared and not yet taken (for tests).
  size_t ready() const;

 private:
  void prepare_steps(long long step, long long epoch, long long epoch_rows);
  PreparedStep prepare(long long step, long long& epoch, long long& epoch_rows);

  data::BatchLoader& loader_;
  const StepBatchOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<PreparedStep> ready_;
  bool stopping_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace electra::train
