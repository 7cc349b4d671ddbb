#include "data/batch_loader.h"

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <random>
#include <stdexcept>

#include "data/shard_set_writer.h"

namespace electra::data {

BatchLoader::BatchLoader(const std::string& dir, const Vocabulary& vocab, bool lowercase,
                         BatchLoaderOptions options)
    : options_(std::move(options)) {
  const Manifest manifest = Manifest::load(dir);
  for (const auto& entry : manifest.split(options_.split)) {
    auto reader =
        std::make_shared<const ShardReader>((std::filesystem::path(dir) / entry.file).string());
    reader->check_vocabulary(vocab, lowercase);
    for (long long first = 0; first < reader->num_rows(); first += options_.block_rows) {
      blocks_.push_back(
          {shards_.size(), first, std::min(options_.block_rows, reader->num_rows() - first)});
    }
    length_ = reader->seq_length();
    shards_.push_back(std::move(reader));
  }
  if (shards_.empty()) {
    throw std::runtime_error(dir + ": the corpus has no '" + options_.split + "' shards");
  }
  // Every rank computes every rank's share: the smallest one sets the batches per epoch.
  long long smallest = -1;
  for (int r = 0; r < options_.world; ++r) {
    long long rows = 0;
    for (size_t b = size_t(r); b < blocks_.size(); b += size_t(options_.world))
      rows += blocks_[b].rows;
    smallest = smallest < 0 ? rows : std::min(smallest, rows);
  }
  batches_per_epoch_ = smallest / options_.batch_size;
  if (batches_per_epoch_ == 0) {
    throw std::runtime_error(dir + ": too few '" + options_.split + "' examples for " +
                             std::to_string(options_.world) + " rank(s) x batch " +
                             std::to_string(options_.batch_size) +
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
  current_ = RowBlock{};
  position_ = 0;
}

std::vector<BatchLoader::Block> BatchLoader::my_blocks(long long epoch) const {
  std::vector<size_t> order(blocks_.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::mt19937_64 rng(mix_seed(options_.seed, uint64_t(epoch), 0xB10C));
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<Block> mine;
  for (size_t i = size_t(options_.rank); i < order.size(); i += size_t(options_.world)) {
    mine.push_back(blocks_[order[i]]);
  }
  return mine;
}

void BatchLoader::start_epoch(long long epoch, long long first_batch) {
  stop_reader();
  batches_given_ = first_batch;
  thread_ = std::thread(&BatchLoader::read_ahead, this, my_blocks(epoch),
                        first_batch * options_.batch_size,
                        mix_seed(options_.seed, uint64_t(epoch), uint64_t(options_.rank) + 1));
}

void BatchLoader::read_ahead(std::vector<Block> blocks, long long skip_rows,
                             uint64_t shuffle_seed) {
  try {
    std::mt19937_64 rng(shuffle_seed);
    for (const Block& block : blocks) {
      RowBlock rows = shards_[block.shard]->read_rows(block.first_row, block.rows);
      // Shuffle the rows of the block in place (the same order whether or not it is skipped).
      std::vector<long long> order(size_t(rows.rows));
      std::iota(order.begin(), order.end(), 0LL);
      std::shuffle(order.begin(), order.end(), rng);
      RowBlock shuffled = rows;
      for (long long i = 0; i < rows.rows; ++i) {
        const auto from = size_t(order[size_t(i)] * rows.length), to = size_t(i * rows.length);
        std::copy_n(rows.input_ids.begin() + long(from), rows.length,
                    shuffled.input_ids.begin() + long(to));
        std::copy_n(rows.input_mask.begin() + long(from), rows.length,
                    shuffled.input_mask.begin() + long(to));
        std::copy_n(rows.segment_ids.begin() + long(from), rows.length,
                    shuffled.segment_ids.begin() + long(to));
      }
      const long long skip = std::min(skip_rows, shuffled.rows);
      skip_rows -= skip;
      if (skip == shuffled.rows) continue;
      shuffled.first_row = skip;  // rows before it were consumed before a resume
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return stopping_ || ready_.size() < options_.read_ahead_blocks; });
      if (stopping_) return;
      ready_.push_back(std::move(shuffled));
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
  if (batches_given_ >= batches_per_epoch_) return false;
  batch.rows = options_.batch_size, batch.length = length_;
  const auto size = size_t(batch.rows * length_);
  batch.input_ids.resize(size), batch.input_mask.resize(size), batch.segment_ids.resize(size);
  for (long long row = 0; row < batch.rows; ++row) {
    if (position_ >= current_.rows) {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return !ready_.empty() || done_; });
      if (ready_.empty()) {
        if (error_) std::rethrow_exception(error_);
        throw std::logic_error("BatchLoader: the epoch ran out of rows");
      }
      current_ = std::move(ready_.front());
      ready_.pop_front();
      position_ = current_.first_row;
      changed_.notify_all();
    }
    const auto from = size_t(position_ * length_), to = size_t(row * length_);
    std::copy_n(current_.input_ids.begin() + long(from), length_,
                batch.input_ids.begin() + long(to));
    std::copy_n(current_.input_mask.begin() + long(from), length_,
                batch.input_mask.begin() + long(to));
    std::copy_n(current_.segment_ids.begin() + long(from), length_,
                batch.segment_ids.begin() + long(to));
    ++position_;
  }
  ++batches_given_;
  return true;
}

}  // namespace electra::data
