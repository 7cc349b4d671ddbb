#include "data/batch_loader.h"

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <random>
#include <stdexcept>

#include "data/seed_hash.h"

namespace electra::data {

namespace {

void append_row(const RowBlock& block, long long row, RowBatch& batch) {
  const auto from = long(row * block.length);
  batch.input_ids.insert(batch.input_ids.end(), block.input_ids.begin() + from,
                         block.input_ids.begin() + from + block.length);
  batch.input_mask.insert(batch.input_mask.end(), block.input_mask.begin() + from,
                          block.input_mask.begin() + from + block.length);
  batch.segment_ids.insert(batch.segment_ids.end(), block.segment_ids.begin() + from,
                           block.segment_ids.begin() + from + block.length);
  ++batch.rows;
}

RowBatch empty_batch(long long length, long long capacity) {
  RowBatch batch;
  batch.length = length;
  batch.input_ids.reserve(size_t(capacity * length));
  batch.input_mask.reserve(size_t(capacity * length));
  batch.segment_ids.reserve(size_t(capacity * length));
  return batch;
}

}  // namespace

std::vector<std::shared_ptr<const ShardReader>> open_split(const std::string& dir,
                                                           const std::string& split,
                                                           const Vocabulary& vocab,
                                                           bool lowercase) {
  const Manifest manifest = Manifest::load(dir);
  std::vector<std::shared_ptr<const ShardReader>> shards;
  for (const auto& entry : manifest.split(split)) {
    auto reader =
        std::make_shared<const ShardReader>((std::filesystem::path(dir) / entry.file).string());
    reader->check_vocabulary(vocab, lowercase);
    reader->check_manifest_entry(entry, manifest.max_seq_length);
    if (!shards.empty() && reader->seq_length() != shards.front()->seq_length()) {
      throw std::runtime_error(reader->path() + ": sequence length " +
                               std::to_string(reader->seq_length()) + " differs from " +
                               shards.front()->path() + "'s " +
                               std::to_string(shards.front()->seq_length()) +
                               "; prepare the corpus again with one --seq-len");
    }
    shards.push_back(std::move(reader));
  }
  if (shards.empty()) throw std::runtime_error(dir + ": the corpus has no '" + split + "' shards");
  return shards;
}

BatchLoader::BatchLoader(const std::string& dir, const Vocabulary& vocab, bool lowercase,
                         BatchLoaderOptions options)
    : options_(std::move(options)), shards_(open_split(dir, options_.split, vocab, lowercase)) {
  long long& total = total_rows_;
  for (size_t s = 0; s < shards_.size(); ++s) {
    const long long rows = shards_[s]->num_rows();
    for (long long first = 0; first < rows; first += options_.block_rows) {
      blocks_.push_back({s, first, std::min(options_.block_rows, rows - first)});
    }
    total += rows;
  }
  length_ = shards_.front()->seq_length();
  global_batch_ = options_.batch_size * options_.world;
  if (total < global_batch_) {
    throw std::runtime_error(dir + ": " + std::to_string(total) + " '" + options_.split +
                             "' examples are too few for " + std::to_string(options_.world) +
                             " rank(s) x batch " + std::to_string(options_.batch_size) +
                             "; use a smaller --batch-size or more data");
  }
}

BatchLoader::~BatchLoader() {
  stop_reader();
}

void BatchLoader::stop_reader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
  ready_.clear();
  done_ = stopping_ = false;
  error_ = nullptr;
}

void BatchLoader::start_epoch(long long epoch, long long first_row) {
  stop_reader();
  if (first_row < 0 || first_row > total_rows_) {
    throw std::invalid_argument("BatchLoader: epoch start row " + std::to_string(first_row) +
                                " outside the " + std::to_string(total_rows_) + " rows");
  }
  batches_given_ = 0;
  batches_this_epoch_ = (total_rows_ - first_row) / global_batch_;
  thread_ = std::thread(&BatchLoader::read_ahead, this, epoch, first_row, batches_this_epoch_);
}

void BatchLoader::read_ahead(long long epoch, long long first_row, long long batches) {
  try {
    std::vector<size_t> order(blocks_.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::mt19937_64 block_rng(mix_seed(options_.seed, uint64_t(epoch), 0xB10C));
    std::shuffle(order.begin(), order.end(), block_rng);

    size_t cursor = 0;             // position in `order` of the block that holds `start`
    long long start = 0;           // stream index of that block's first row
    size_t cached = order.size();  // position in `order` of the block in `rows`
    RowBlock rows;                 // the cached block, its rows shuffled
    const long long b = options_.batch_size, global = b * options_.world;
    for (long long k = 0; k < batches; ++k) {
      RowBatch batch = empty_batch(length_, b);
      const long long mine = first_row + k * global + options_.rank * b;  // this rank's first row
      for (long long s = mine; s < mine + b; ++s) {
        while (s >= start + blocks_[order[cursor]].rows) start += blocks_[order[cursor++]].rows;
        if (cached != cursor) {
          const Block& block = blocks_[order[cursor]];
          const RowBlock read = shards_[block.shard]->read_rows(block.first_row, block.rows);
          std::vector<long long> shuffled(size_t(read.rows));
          std::iota(shuffled.begin(), shuffled.end(), 0LL);
          std::mt19937_64 row_rng(
              mix_seed(mix_seed(options_.seed, uint64_t(epoch), 0x5EED), uint64_t(order[cursor])));
          std::shuffle(shuffled.begin(), shuffled.end(), row_rng);
          RowBatch permuted = empty_batch(length_, read.rows);
          for (long long i : shuffled) append_row(read, i, permuted);
          rows.rows = permuted.rows, rows.length = length_;
          rows.input_ids = std::move(permuted.input_ids);
          rows.input_mask = std::move(permuted.input_mask);
          rows.segment_ids = std::move(permuted.segment_ids);
          cached = cursor;
        }
        append_row(rows, s - start, batch);
      }
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return stopping_ || ready_.size() < options_.read_ahead_batches; });
      if (stopping_) return;
      ready_.push_back(std::move(batch));
      changed_.notify_all();
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    error_ = std::current_exception();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  done_ = true;
  changed_.notify_all();
}

bool BatchLoader::next(RowBatch& batch) {
  if (batches_given_ >= batches_this_epoch_) return false;
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return !ready_.empty() || done_; });
  if (ready_.empty()) {
    if (error_) std::rethrow_exception(error_);
    throw std::logic_error("BatchLoader: the epoch ran out of rows");
  }
  batch = std::move(ready_.front());
  ready_.pop_front();
  changed_.notify_all();
  ++batches_given_;
  return true;
}

EvalBatches::EvalBatches(const std::string& dir, const Vocabulary& vocab, bool lowercase,
                         const std::string& split, int rank, int world, long long batch_size,
                         long long max_rows)
    : shards_(open_split(dir, split, vocab, lowercase)), batch_size_(batch_size) {
  for (const auto& shard : shards_) {
    shard_starts_.push_back(total_rows_);
    total_rows_ += shard->num_rows();
  }
  if (max_rows > 0) total_rows_ = std::min(total_rows_, max_rows);
  length_ = shards_.front()->seq_length();
  first_row_ = next_row_ = total_rows_ * rank / world;
  end_row_ = total_rows_ * (rank + 1) / world;
}

bool EvalBatches::next(RowBatch& batch, long long& first_global_row) {
  if (next_row_ >= end_row_) return false;
  first_global_row = next_row_;
  const long long count = std::min(batch_size_, end_row_ - next_row_);
  batch = empty_batch(length_, count);
  while (batch.rows < count) {
    const size_t shard =
        size_t(std::upper_bound(shard_starts_.begin(), shard_starts_.end(), next_row_) -
               shard_starts_.begin() - 1);
    const long long in_shard = next_row_ - shard_starts_[shard];
    const long long take = std::min(count - batch.rows, shards_[shard]->num_rows() - in_shard);
    const RowBlock rows = shards_[shard]->read_rows(in_shard, take);
    for (long long i = 0; i < rows.rows; ++i) append_row(rows, i, batch);
    next_row_ += take;
  }
  return true;
}

}  // namespace electra::data
