// electra prepare: text files (or NVIDIA BERT shards) -> HDF5 shards + manifest.json, on one
// process or under mpirun, where the ranks split the inputs and rank 0 writes the manifest last.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "app/cli/command.h"
#include "app/cli/defaults.h"
#include "app/cli/progress_line.h"
#include "app/cli/rank_phase.h"
#include "data/corpus_preparer.h"
#include "data/manifest.h"
#include "data/output_path.h"
#include "data/shard_reader.h"
#include "dist/communicator.h"

namespace electra::cli {
namespace {

namespace fs = std::filesystem;

void declare(po::options_description& options) {
  options.add_options()(
      "input", po::value<std::vector<std::string>>()->multitoken(),
      "text files or folders of them (one sentence or paragraph a line, a blank line between "
      "documents)")("from-nvidia-shards", po::value<std::string>(),
                    "instead of --input: a folder of NVIDIA BERT HDF5 shards to convert")(
      "vocab", po::value<std::string>()->default_value(kDefaultVocab),
      "WordPiece vocabulary (vocab.txt)")("cased", po::bool_switch(),
                                          "keep case and accents (a cased vocabulary)")(
      "out", po::value<std::string>()->required(),
      "output folder for the shards and manifest.json")(
      "seq-len", number(128LL, Range<long long>{8, 65536}),
      "tokens per example, [CLS]/[SEP] included (NVIDIA shards keep their own)")(
      "shards", number(1, Range<int>{1, 100000}),
      "number of train shards over all ranks (at least one per rank)")(
      "val-fraction", number(0.01, Range<double>{0, 1, false, true}),
      "fraction of examples put in the validation shards")(
      "seed", number<uint64_t>(12345, kSeed),
      "seed of the example builder and the validation split")(
      "overwrite", po::bool_switch(),
      "replace the shards and manifest of an existing output folder")(
      "max-line-bytes", number(size_t(1) << 20, kLineBytes), "refuse input lines longer than this");
}

struct PrepareInputs {
  std::vector<data::InputFile> files;
  bool nvidia = false;
  std::string skipped_note;  // text inputs: what the folders held that is not text
};

PrepareInputs resolve_inputs(const po::variables_map& options) {
  PrepareInputs inputs;
  inputs.nvidia = options.count("from-nvidia-shards") > 0;
  if (inputs.nvidia) {
    inputs.files =
        data::list_input_files({options["from-nvidia-shards"].as<std::string>()}, {".hdf5", ".h5"});
  } else {
    auto text = data::list_text_inputs(options["input"].as<std::vector<std::string>>(),
                                       options["out"].as<std::string>());
    inputs.files = std::move(text.files);
    inputs.skipped_note = text.skipped_note();
  }
  return inputs;
}

std::string megabytes(long long bytes) {
  std::ostringstream text;
  text << std::fixed << std::setprecision(1) << double(bytes) / 1e6 << " MB";
  return text.str();
}

void print_summary(const data::Manifest& manifest, const data::PrepareStats& stats,
                   const std::string& out, double seconds) {
  const double padding =
      stats.positions ? 100.0 * double(stats.positions - stats.tokens) / double(stats.positions)
                      : 0;
  std::cout << "prepared " << with_commas(stats.examples) << " examples (train "
            << with_commas(stats.train_examples) << ", validation "
            << with_commas(stats.validation_examples) << ") of length " << manifest.max_seq_length
            << " from " << stats.files << " file(s), " << megabytes(stats.bytes) << ", in "
            << std::fixed << std::setprecision(1) << seconds << " s ("
            << double(stats.bytes) / 1e6 / std::max(seconds, 1e-9) << " MB/s)\n"
            << "tokens: " << with_commas(stats.tokens) << " real, padding " << std::setprecision(1)
            << padding << "% of " << with_commas(stats.positions) << " positions\n"
            << "shards: " << manifest.shards.size() << " in " << out << " (manifest "
            << (fs::path(out) / data::kManifestFile).string() << ")\n";
  for (const auto& shard : manifest.shards) {
    std::cout << "  " << shard.file << "  " << shard.split << "  "
              << with_commas(shard.num_examples) << " examples  sha256 "
              << shard.sha256.substr(0, 16) << "\n";
  }
  if (stats.invalid_utf8) {
    std::cout << "invalid UTF-8: " << stats.invalid_utf8
              << " sequence(s) replaced by U+FFFD and dropped\n";
  }
}

data::PrepareOptions parse_prepare_options(const po::variables_map& options) {
  data::PrepareOptions prepare;
  prepare.out_dir = options["out"].as<std::string>();
  prepare.seq_len = options["seq-len"].as<long long>();
  prepare.total_train_shards = options["shards"].as<int>();
  prepare.val_fraction = options["val-fraction"].as<double>();
  prepare.seed = options["seed"].as<uint64_t>();
  prepare.max_line_bytes = options["max-line-bytes"].as<size_t>();
  return prepare;
}

// The manifest of the whole corpus from every rank's output (gathered on rank 0); `total` gets
// the summed statistics.
data::Manifest build_manifest(const std::vector<std::string>& gathered,
                              const data::Vocabulary& vocab, bool lowercase,
                              const data::PrepareOptions& prepare, const PrepareInputs& inputs,
                              int ranks, data::PrepareStats& total) {
  data::Manifest manifest;
  manifest.vocab_sha256 = vocab.sha256();
  manifest.vocab_size = (long long)vocab.size();
  manifest.lowercase = lowercase;
  manifest.max_seq_length = prepare.seq_len;
  nlohmann::json input_list = nlohmann::json::array();
  for (const auto& file : inputs.files) {
    input_list.push_back({{"path", file.path}, {"bytes", file.bytes}});
  }
  for (const auto& text : gathered) {
    const auto rank_output = data::RankOutput::from_json(nlohmann::json::parse(text));
    total.add(rank_output.stats);
    manifest.shards.insert(manifest.shards.end(), rank_output.shards.begin(),
                           rank_output.shards.end());
  }
  if (total.examples == 0) {
    throw std::runtime_error(inputs.files.front().path +
                             ": the input has no text; nothing to prepare");
  }
  std::sort(manifest.shards.begin(), manifest.shards.end(),
            [](const auto& a, const auto& b) { return a.file < b.file; });
  manifest.preparation = {{"tool", "electra prepare"},
                          {"source", inputs.nvidia ? "nvidia-bert-shards" : "text"},
                          {"inputs", input_list},
                          {"seed", prepare.seed},
                          {"val_fraction", prepare.val_fraction},
                          {"train_shards_requested", prepare.total_train_shards},
                          {"ranks", ranks},
                          {"stats", total.to_json()}};
  return manifest;
}

int run(const po::variables_map& options) {
  const auto started = std::chrono::steady_clock::now();
  if (options.count("input") == options.count("from-nvidia-shards")) {
    throw UsageError("give either --input or --from-nvidia-shards");
  }
  data::PrepareOptions prepare = parse_prepare_options(options);
  const bool lowercase = !options["cased"].as<bool>();

  auto world = dist::make_world_communicator();
  std::shared_ptr<const data::Vocabulary> vocab;
  PrepareInputs inputs;
  data::OutputLock lock;      // rank 0 holds the output folder's lock until the end
  data::OutputRecord record;  // what this rank writes there
  try {
    run_phase(*world, "prepare", [&] {
      data::check_output_folder(prepare.out_dir, "--out");
      // First: a second prepare into the same folder fails at once, naming this one.
      if (world->is_root()) {
        lock = data::OutputLock::folder(prepare.out_dir, "--out", "electra prepare");
      }
      vocab = std::make_shared<const data::Vocabulary>(
          data::Vocabulary::load(options["vocab"].as<std::string>()));
      inputs = resolve_inputs(options);
      if (world->is_root() && !inputs.skipped_note.empty()) {
        std::cout << "prepare: " << inputs.skipped_note << " in the --input folders\n";
      }
      if (inputs.nvidia) {
        prepare.seq_len =
            data::ShardReader(inputs.files.front().path, data::ShardReader::Layout::kNvidiaBert)
                .seq_length();
      }
    });
    run_phase(*world, "prepare", [&] {
      if (!world->is_root()) return;
      // Anything prepare did not write is refused even with --overwrite; an earlier corpus is
      // replaced only with it, its manifest removed first (never a mix of old and new shards).
      std::vector<data::CommandInput> read{{options["vocab"].as<std::string>(), "--vocab"}};
      if (inputs.nvidia)
        read.push_back({options["from-nvidia-shards"].as<std::string>(), "--from-nvidia-shards"});
      for (const auto& file : inputs.files) read.push_back({file.path, "--input"});
      record = data::claim_output_folder(prepare.out_dir, "prepare", "a prepared corpus", read,
                                         options["overwrite"].as<bool>());
    });
    // Every rank lists the shards it writes (rank 0's record is open already).
    if (!world->is_root()) {
      record = data::OutputRecord::open(prepare.out_dir, "prepare", world->rank());
    }
    const auto assigned = data::assign_files_to_ranks(inputs.files, world->size());
    const auto& mine = assigned[size_t(world->rank())];
    ProgressLine progress_line(world->is_root());
    auto progress = [&](const data::PrepareStats& stats, const data::InputFile&) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      std::ostringstream text;
      text << "prepare: file " << std::min(stats.files + 1, (long long)mine.size()) << "/"
           << mine.size() << (world->size() > 1 ? " (rank 0)" : "") << "  "
           << megabytes(stats.bytes) << "  " << std::fixed << std::setprecision(1)
           << double(stats.bytes) / 1e6 / std::max(seconds, 1e-9) << " MB/s  "
           << with_commas(stats.examples) << " examples";
      progress_line.update(text.str());
    };
    data::RankOutput output;
    try {
      run_phase(*world, "prepare", [&] {
        output = inputs.nvidia
                     ? data::convert_nvidia_shards(mine, *vocab, lowercase, prepare, world->rank(),
                                                   world->size(), progress)
                     : data::prepare_text_files(
                           mine,
                           data::WordPieceTokenizer(vocab, lowercase,
                                                    data::BertPreTokenizer::SpecialTokens::kSplit),
                           prepare, world->rank(), world->size(), progress);
      });
    } catch (const PhaseFailed&) {  // another rank failed: the corpus is incomplete, drop ours
      for (const auto& shard : output.shards) fs::remove(fs::path(prepare.out_dir) / shard.file);
      throw;
    }
    progress_line.clear();
    const auto gathered = world->gather_to_root(output.to_json().dump());
    run_phase(*world, "prepare", [&] {
      if (!world->is_root()) return;
      data::PrepareStats total;
      const data::Manifest manifest =
          build_manifest(gathered, *vocab, lowercase, prepare, inputs, world->size(), total);
      manifest.write(prepare.out_dir);
      record.complete();
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      print_summary(manifest, total, prepare.out_dir, seconds);
    });
  } catch (const PhaseFailed&) {
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

Command prepare_command() {
  return {"prepare",
          "Turn text (or NVIDIA BERT shards) into HDF5 pre-training shards and manifest.json.",
          "--input PATH... | --from-nvidia-shards DIR  --out DIR [options]",
          declare,
          {},
          run};
}

}  // namespace electra::cli
