#include "data/shard_set_writer.h"

#include <cstdio>
#include <filesystem>

#include "data/seed_hash.h"

namespace electra::data {
namespace {

std::string shard_name(const char* split, int index) {
  char name[64];
  std::snprintf(name, sizeof name, "%s-%05d.h5", split, index);
  return name;
}

}  // namespace

ShardSetWriter::ShardSetWriter(ShardSetOptions options)
    : options_(std::move(options)),
      shards_per_rank_(
          std::max(1, (options_.total_train_shards + options_.world - 1) / options_.world)),
      train_(size_t(shards_per_rank_)) {}

void ShardSetWriter::add(const Example& example, long long file_index, long long example_index) {
  const double u =
      double(mix_seed(options_.seed ^ 0x5eedULL, uint64_t(file_index), uint64_t(example_index)) >>
             11) *
      0x1.0p-53;
  const bool validation = u < options_.val_fraction;
  std::unique_ptr<ShardWriter>* slot;
  int global_index;
  if (validation) {
    slot = &validation_, global_index = options_.rank;
  } else {
    const int local = int(train_examples_++ % shards_per_rank_);
    slot = &train_[size_t(local)], global_index = options_.rank * shards_per_rank_ + local;
  }
  if (!*slot) {
    ShardAttributes attributes = options_.attributes;
    attributes.split = validation ? "validation" : "train";
    const auto path = std::filesystem::path(options_.out_dir) /
                      shard_name(validation ? "validation" : "train", global_index);
    *slot = std::make_unique<ShardWriter>(path.string(), attributes);
  }
  (*slot)->append(example);
}

std::vector<ShardSummary> ShardSetWriter::finish() {
  std::vector<ShardSummary> summaries;
  for (auto& writer : train_) {
    if (writer) summaries.push_back(writer->finish());
  }
  if (validation_) summaries.push_back(validation_->finish());
  return summaries;
}

}  // namespace electra::data
