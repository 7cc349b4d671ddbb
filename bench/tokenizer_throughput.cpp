// Times electra's WordPiece tokenizer on one thread: every line of a text file encoded with
// [CLS]/[SEP], best of N passes. Prints JSON {bytes, lines, tokens, seconds, mb_per_s,
// tokens_per_s}. usage: tokenizer_throughput VOCAB TEXT_FILE [PASSES]
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "data/wordpiece_tokenizer.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: tokenizer_throughput VOCAB TEXT_FILE [PASSES]\n";
    return 2;
  }
  using namespace electra::data;
  auto vocab = std::make_shared<const Vocabulary>(Vocabulary::load(argv[1]));
  const WordPieceTokenizer tokenizer(vocab, true);
  std::ifstream in(argv[2], std::ios::binary);
  if (!in) {
    std::cerr << argv[2] << ": cannot open\n";
    return 1;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  std::vector<std::string_view> lines;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(std::string_view(text).substr(start, end - start));
    start = end + 1;
  }
  const int passes = argc > 3 ? std::atoi(argv[3]) : 3;
  double best = 1e30;
  long long tokens = 0;
  for (int pass = 0; pass < passes; ++pass) {
    tokens = 0;
    const auto started = std::chrono::steady_clock::now();
    for (auto line : lines) tokens += (long long)tokenizer.encode_with_specials(line).size();
    best = std::min(
        best, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  std::cout << nlohmann::json{{"bytes", text.size()},
                              {"lines", lines.size()},
                              {"tokens", tokens},
                              {"seconds", best},
                              {"mb_per_s", double(text.size()) / 1e6 / best},
                              {"tokens_per_s", double(tokens) / best}}
                   .dump()
            << "\n";
}
