// electra tokenize: lines on stdin -> WordPiece ids (or pieces), one output line per input line.
#include <iostream>
#include <memory>
#include <string>

#include "app/cli/command.h"
#include "app/cli/defaults.h"
#include "data/wordpiece_tokenizer.h"

namespace electra::cli {
namespace {

void declare(po::options_description& options) {
  options.add_options()("vocab", po::value<std::string>()->default_value(kDefaultVocab),
                        "WordPiece vocabulary (vocab.txt)")(
      "cased", po::bool_switch(), "keep case and accents (a cased vocabulary)")(
      "tokens", po::bool_switch(), "print word pieces instead of ids");
}

int run(const po::variables_map& options) {
  auto vocab = std::make_shared<const data::Vocabulary>(
      data::Vocabulary::load(options["vocab"].as<std::string>()));
  const data::WordPieceTokenizer tokenizer(vocab, !options["cased"].as<bool>());
  const bool print_tokens = options["tokens"].as<bool>();
  std::ios::sync_with_stdio(false);
  std::string line, out;
  data::TextStats stats;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t tab = line.find('\t');
    std::string_view text(line);
    std::vector<int32_t> ids;
    if (tab == std::string::npos) {
      ids = tokenizer.encode_with_specials(text, nullptr, &stats);
    } else {
      std::string_view second = text.substr(tab + 1);
      ids = tokenizer.encode_with_specials(text.substr(0, tab), &second, &stats);
    }
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i) out.push_back(' ');
      out += print_tokens ? vocab->token(ids[i]) : std::to_string(ids[i]);
    }
    out.push_back('\n');
    if (out.size() > (1 << 16)) std::cout << out, out.clear();
  }
  std::cout << out << std::flush;
  if (stats.invalid_utf8) {
    std::cerr << "electra tokenize: replaced " << stats.invalid_utf8
              << " invalid UTF-8 sequence(s) in the input (they were dropped)\n";
  }
  return kExitOk;
}

}  // namespace

Command tokenize_command() {
  return {"tokenize",
          "Tokenize lines from stdin (a TAB separates a sentence pair) into ids.",
          "[--vocab FILE] [--cased] [--tokens] < text",
          declare,
          {},
          run};
}

}  // namespace electra::cli
