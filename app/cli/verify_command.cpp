// electra verify: check a prepared corpus (manifest, checksums, attributes, vocabulary, rows).
#include <iostream>

#include "app/cli/command.h"
#include "app/cli/defaults.h"
#include "app/cli/progress_line.h"
#include "data/corpus_verifier.h"

namespace electra::cli {
namespace {

void declare(po::options_description& options) {
  options.add_options()("data", po::value<std::string>()->required(),
                        "a folder made by electra prepare")(
      "vocab", po::value<std::string>()->default_value(kDefaultVocab),
      "the vocabulary the corpus is used with")("cased", po::bool_switch(),
                                                "the corpus is used cased");
}

int run(const po::variables_map& options) {
  const auto vocab = data::Vocabulary::load(options["vocab"].as<std::string>());
  long long rows = 0;
  const auto manifest = data::verify_corpus(
      options["data"].as<std::string>(), vocab, !options["cased"].as<bool>(),
      [&](const data::VerifiedShard& shard) {
        std::cout << "ok  " << shard.file << "  " << with_commas(shard.rows) << " rows\n";
        rows += shard.rows;
      });
  std::cout << "verified " << manifest.shards.size() << " shard(s), " << with_commas(rows)
            << " examples of length " << manifest.max_seq_length << "\n";
  return kExitOk;
}

}  // namespace

Command verify_command() {
  return {"verify",
          "Check a prepared corpus: manifest, checksums, vocabulary and every row.",
          "--data DIR [--vocab FILE]",
          declare,
          {},
          run};
}

}  // namespace electra::cli
