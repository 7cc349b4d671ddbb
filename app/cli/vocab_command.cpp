// electra vocab: learn a WordPiece vocabulary (vocab.txt) from a corpus.
#include <chrono>
#include <filesystem>
#include <iostream>

#include "app/cli/command.h"
#include "data/atomic_file.h"
#include "data/input_files.h"
#include "data/output_path.h"
#include "data/text_line_reader.h"
#include "data/vocab_builder.h"

namespace electra::cli {
namespace {

void declare(po::options_description& options) {
  options.add_options()("input", po::value<std::vector<std::string>>()->multitoken()->required(),
                        "text files or folders of them")(
      "size", number(size_t(30522), Range<size_t>{6, 10000000}),
      "vocabulary size, special tokens included")("out", po::value<std::string>()->required(),
                                                  "the vocab.txt to write")(
      "cased", po::bool_switch(), "keep case and accents")(
      "min-frequency", number(2LL, Range<long long>{1, kMaxCount}),
      "merge only pairs that occur at least this often")(
      "limit-alphabet", number(size_t(1000), Range<size_t>{1, 10000000}),
      "keep the most frequent characters; rarer ones become [UNK]")(
      "max-line-bytes", number(size_t(1) << 20, kLineBytes), "refuse input lines longer than this")(
      "overwrite", po::bool_switch(), "replace an existing --out file");
}

int run(const po::variables_map& options) {
  const auto started = std::chrono::steady_clock::now();
  const std::string out = options["out"].as<std::string>();
  std::vector<data::CommandInput> read;
  for (const auto& input : options["input"].as<std::vector<std::string>>()) {
    read.push_back({input, "--input"});
  }
  const auto lock = data::OutputLock::claim_file(out, "--out", "electra vocab", read,
                                                 options["overwrite"].as<bool>());
  data::VocabBuilderOptions builder;
  builder.vocab_size = options["size"].as<size_t>();
  builder.min_frequency = options["min-frequency"].as<long long>();
  builder.limit_alphabet = options["limit-alphabet"].as<size_t>();
  const bool lowercase = !options["cased"].as<bool>();

  data::WordCounter counter(lowercase);
  long long bytes = 0;
  const auto inputs = data::list_text_inputs(options["input"].as<std::vector<std::string>>());
  if (!inputs.skipped_note().empty()) {
    std::cout << "vocab: " << inputs.skipped_note() << " in the --input folders\n";
  }
  const auto& files = inputs.files;
  for (const auto& file : files) {
    data::TextLineReader reader(file.path, options["max-line-bytes"].as<size_t>());
    std::string_view line;
    while (reader.next(line)) counter.add_text(line);
    bytes += (long long)reader.bytes_read();
  }
  if (counter.counts().empty())
    throw std::runtime_error(files.front().path + ": the input has no words");
  const auto vocab = data::build_wordpiece_vocab(counter.counts(), builder);
  std::string text;
  for (const auto& token : vocab) text += token + "\n";
  data::write_file_atomically(out, text);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "wrote " << out << ": " << vocab.size() << " tokens from " << counter.counts().size()
            << " distinct words in " << files.size() << " file(s) (" << bytes << " bytes) in "
            << seconds << " s\n";
  if (vocab.size() < builder.vocab_size) {
    std::cout << "note: stopped at " << vocab.size() << " < --size " << builder.vocab_size
              << ": no pair occurs --min-frequency times any more (a larger corpus gives more)\n";
  }
  if (counter.invalid_utf8()) {
    std::cout << "invalid UTF-8: " << counter.invalid_utf8()
              << " sequence(s) replaced and dropped\n";
  }
  return kExitOk;
}

}  // namespace

Command vocab_command() {
  return {"vocab",
          "Learn a WordPiece vocabulary (vocab.txt, special tokens first) from text.",
          "--input PATH... --out vocab.txt [--size N] [--cased]",
          declare,
          {},
          run};
}

}  // namespace electra::cli
