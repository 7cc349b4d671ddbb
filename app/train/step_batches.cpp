#include "app/train/step_batches.h"

#include <algorithm>
#include <stdexcept>

#include "app/train/whole_word_masking.h"
#include "data/seed_hash.h"

namespace electra::train {

std::vector<uint64_t> train_row_keys(const StepBatchOptions& options, long long step,
                                     long long micro) {
  std::vector<uint64_t> keys(size_t(options.batch_size));
  const long long first = (micro * options.world + options.rank) * options.batch_size;
  for (size_t i = 0; i < keys.size(); ++i) {
    keys[i] = data::mix_seed(options.seed, uint64_t(step - 1), uint64_t(first) + i);
  }
  return keys;
}

StepBatches::StepBatches(data::BatchLoader& loader, StepBatchOptions options, long long first_step,
                         long long epoch, long long epoch_rows)
    : loader_(loader), options_(std::move(options)) {
  loader_.start_epoch(epoch, epoch_rows);
  thread_ = std::thread(
      [this, first_step, epoch, epoch_rows] { prepare_steps(first_step, epoch, epoch_rows); });
}

StepBatches::~StepBatches() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void StepBatches::prepare_steps(long long step, long long epoch, long long epoch_rows) {
  try {
    for (;; ++step) {
      PreparedStep prepared = prepare(step, epoch, epoch_rows);
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return stopping_ || ready_.size() < options_.steps_ahead; });
      if (stopping_) return;
      ready_.push_back(std::move(prepared));
      changed_.notify_all();
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    error_ = std::current_exception();
    changed_.notify_all();
  }
}

PreparedStep StepBatches::prepare(long long step, long long& epoch, long long& epoch_rows) {
  PreparedStep prepared;
  prepared.step = step;
  prepared.micro_rows.resize(size_t(options_.grad_accum));
  prepared.infos.resize(prepared.micro_rows.size());
  for (size_t micro = 0; micro < prepared.micro_rows.size(); ++micro) {
    data::RowBatch& rows = prepared.micro_rows[micro];
    if (!loader_.next(rows)) {
      ++epoch, epoch_rows = 0;
      loader_.start_epoch(epoch);
      if (!loader_.next(rows)) throw std::logic_error("StepBatches: a new epoch has no batch");
    }
    epoch_rows += loader_.global_batch_rows();
    HostBatchInfo& info = prepared.infos[micro];
    info.row_keys = train_row_keys(options_, step, (long long)micro);
    if (!options_.continuation.empty()) {
      BatchWordChoice words =
          choose_whole_words(rows.input_ids.data(), rows.input_mask.data(), rows.rows, rows.length,
                             options_.continuation, options_.masking, info.row_keys);
      info.counts = std::move(words.counts);
      info.mask_positions = std::move(words.positions);
      info.keep_original = std::move(words.keep);
    }
    for (long long r = 0; r < rows.rows; ++r) {
      const int32_t* ids = rows.input_ids.data() + r * rows.length;
      const uint8_t* mask = rows.input_mask.data() + r * rows.length;
      if (options_.continuation.empty()) {
        info.counts.push_back(int32_t(prediction_count(ids, mask, rows.length, options_.masking)));
      }
      prepared.counts[0] += info.counts[size_t(r)];
      prepared.counts[1] +=
          double(std::count_if(mask, mask + rows.length, [](uint8_t m) { return m != 0; }));
    }
  }
  prepared.epoch = epoch, prepared.epoch_rows = epoch_rows;
  return prepared;
}

PreparedStep StepBatches::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return !ready_.empty() || error_; });
  if (ready_.empty()) std::rethrow_exception(error_);
  PreparedStep prepared = std::move(ready_.front());
  ready_.pop_front();
  changed_.notify_all();
  return prepared;
}

size_t StepBatches::ready() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return ready_.size();
}

}  // namespace electra::train
