#include "data/corpus_preparer.h"

#include <algorithm>
#include <filesystem>
#include <numeric>

#include "data/example_builder.h"
#include "data/seed_hash.h"
#include "data/shard_reader.h"
#include "data/text_line_reader.h"

namespace electra::data {

using nlohmann::json;

void PrepareStats::add(const PrepareStats& other) {
  files += other.files, bytes += other.bytes, lines += other.lines;
  examples += other.examples, train_examples += other.train_examples;
  validation_examples += other.validation_examples, tokens += other.tokens;
  positions += other.positions, invalid_utf8 += other.invalid_utf8;
}

json PrepareStats::to_json() const {
  return {{"files", files},
          {"bytes", bytes},
          {"lines", lines},
          {"examples", examples},
          {"train_examples", train_examples},
          {"validation_examples", validation_examples},
          {"tokens", tokens},
          {"positions", positions},
          {"invalid_utf8", invalid_utf8}};
}

PrepareStats PrepareStats::from_json(const json& j) {
  PrepareStats s;
  s.files = j.at("files"), s.bytes = j.at("bytes"), s.lines = j.at("lines");
  s.examples = j.at("examples"), s.train_examples = j.at("train_examples");
  s.validation_examples = j.at("validation_examples"), s.tokens = j.at("tokens");
  s.positions = j.at("positions"), s.invalid_utf8 = j.at("invalid_utf8");
  return s;
}

json RankOutput::to_json() const {
  json shard_list = json::array();
  for (const auto& shard : shards) shard_list.push_back(shard_to_json(shard));
  return {{"shards", shard_list}, {"stats", stats.to_json()}};
}

RankOutput RankOutput::from_json(const json& j) {
  RankOutput output;
  for (const auto& entry : j.at("shards"))
    output.shards.push_back(shard_from_json(entry, "rank output"));
  output.stats = PrepareStats::from_json(j.at("stats"));
  return output;
}

std::vector<std::vector<InputFile>> assign_files_to_ranks(const std::vector<InputFile>& files,
                                                          int world) {
  std::vector<size_t> order(files.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return files[a].bytes > files[b].bytes; });
  std::vector<std::vector<InputFile>> assigned(static_cast<size_t>(world));
  std::vector<long long> load(static_cast<size_t>(world), 0);
  for (size_t i : order) {
    const auto rank = size_t(std::min_element(load.begin(), load.end()) - load.begin());
    assigned[rank].push_back(files[i]);
    load[rank] += files[i].bytes;
  }
  for (auto& rank_files : assigned) {
    std::sort(rank_files.begin(), rank_files.end(),
              [](const InputFile& a, const InputFile& b) { return a.index < b.index; });
  }
  return assigned;
}

ShardAttributes corpus_attributes(const Vocabulary& vocab, bool lowercase, long long seq_len) {
  ShardAttributes attributes;
  attributes.vocab_sha256 = vocab.sha256();
  attributes.vocab_size = (long long)vocab.size();
  attributes.lowercase = lowercase;
  attributes.max_seq_length = seq_len;
  return attributes;
}

namespace {

ShardSetOptions shard_set_options(const Vocabulary& vocab, bool lowercase,
                                  const PrepareOptions& options, int rank, int world) {
  ShardSetOptions set;
  set.out_dir = options.out_dir;
  set.attributes = corpus_attributes(vocab, lowercase, options.seq_len);
  set.rank = rank, set.world = world;
  set.total_train_shards = options.total_train_shards;
  set.val_fraction = options.val_fraction;
  set.seed = options.seed;
  return set;
}

// Counts an example into the stats and hands it to the shard set.
void emit(const Example& example, const InputFile& file, long long& example_index,
          ShardSetWriter& shards, PrepareStats& stats) {
  shards.add(example, file.index, example_index++);
  ++stats.examples;
  stats.tokens += (long long)example.real_tokens();
  stats.positions += (long long)example.input_ids.size();
}

bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t\r\v\f") == std::string_view::npos;
}

RankOutput finish(ShardSetWriter& shards, PrepareStats stats) {
  RankOutput output;
  for (const auto& summary : shards.finish()) {
    output.shards.push_back({std::filesystem::path(summary.path).filename().string(), summary.split,
                             summary.num_examples, summary.num_tokens, summary.sha256});
  }
  for (const auto& shard : output.shards) {
    (shard.split == "train" ? stats.train_examples : stats.validation_examples) +=
        shard.num_examples;
  }
  output.stats = stats;
  return output;
}

}  // namespace

RankOutput prepare_text_files(const std::vector<InputFile>& files,
                              const WordPieceTokenizer& tokenizer, const PrepareOptions& options,
                              int rank, int world, const ProgressCallback& progress) {
  ShardSetWriter shards(
      shard_set_options(tokenizer.vocab(), tokenizer.lowercase(), options, rank, world));
  PrepareStats stats;
  for (const auto& file : files) {
    TextLineReader reader(file.path, options.max_line_bytes);
    ExampleBuilder builder(tokenizer.vocab().special(), options.seq_len,
                           mix_seed(options.seed, uint64_t(file.index)));
    long long example_index = 0;
    TextStats text_stats;
    std::string_view line;
    size_t reported_bytes = 0;
    while (reader.next(line)) {
      ++stats.lines;
      const bool blank = is_blank(line);
      std::vector<int32_t> ids;
      if (!blank) tokenizer.encode(line, ids, &text_stats);
      if (auto example = builder.add_line(std::move(ids), blank)) {
        emit(*example, file, example_index, shards, stats);
      }
      if (progress && reader.bytes_read() != reported_bytes) {
        stats.bytes += (long long)(reader.bytes_read() - reported_bytes);
        reported_bytes = reader.bytes_read();
        progress(stats, file);
      }
    }
    if (auto example = builder.finish()) emit(*example, file, example_index, shards, stats);
    stats.bytes += (long long)(reader.bytes_read() - reported_bytes);
    stats.invalid_utf8 += text_stats.invalid_utf8;
    ++stats.files;
    if (progress) progress(stats, file);
  }
  return finish(shards, stats);
}

RankOutput convert_nvidia_shards(const std::vector<InputFile>& files, const Vocabulary& vocab,
                                 bool lowercase, const PrepareOptions& options, int rank, int world,
                                 const ProgressCallback& progress) {
  constexpr long long kBlockRows = 1024;
  ShardSetWriter shards(shard_set_options(vocab, lowercase, options, rank, world));
  PrepareStats stats;
  const auto vocab_size = int32_t(vocab.size());
  for (const auto& file : files) {
    const ShardReader reader(file.path, ShardReader::Layout::kNvidiaBert);
    const long long length = reader.seq_length();
    if (length != options.seq_len) {
      throw std::runtime_error(file.path + ": sequence length " + std::to_string(length) +
                               " differs from " + std::to_string(options.seq_len) +
                               " of the other shards; convert shards of one length together");
    }
    long long example_index = 0;
    for (long long first = 0; first < reader.num_rows(); first += kBlockRows) {
      const long long rows = std::min(kBlockRows, reader.num_rows() - first);
      RowBlock block = reader.read_rows(first, rows);
      long long predictions = 0, id_columns = 0;
      const auto positions =
          reader.read_int_matrix("masked_lm_positions", first, rows, &predictions);
      const auto original = reader.read_int_matrix("masked_lm_ids", first, rows, &id_columns);
      if (id_columns != predictions) {
        throw std::runtime_error(file.path +
                                 ": masked_lm_positions and masked_lm_ids differ in shape");
      }
      for (long long r = 0; r < rows; ++r) {
        int32_t* ids = block.input_ids.data() + r * length;
        for (long long j = 0; j < predictions; ++j) {  // the list ends at the first position 0
          const int32_t position = positions[size_t(r * predictions + j)];
          if (position == 0) break;
          if (position < 0 || position >= length) {
            throw std::runtime_error(file.path + ": row " + std::to_string(first + r) +
                                     ": masked_lm_positions value " + std::to_string(position) +
                                     " outside [0, " + std::to_string(length) + ")");
          }
          ids[position] = original[size_t(r * predictions + j)];
        }
        for (long long k = 0; k < length; ++k) {
          if (ids[k] < 0 || ids[k] >= vocab_size) {
            throw std::runtime_error(file.path + ": row " + std::to_string(first + r) +
                                     ": token id " + std::to_string(ids[k]) +
                                     " outside the vocabulary " + vocab.source() + " (" +
                                     std::to_string(vocab_size) +
                                     " tokens); pass the vocabulary the shards were made with");
          }
        }
        emit(block.example(r), file, example_index, shards, stats);
      }
      if (progress) progress(stats, file);
    }
    stats.bytes += file.bytes;
    ++stats.files;
    if (progress) progress(stats, file);
  }
  return finish(shards, stats);
}

}  // namespace electra::data
