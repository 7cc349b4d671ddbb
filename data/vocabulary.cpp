#include "data/vocabulary.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "data/input_files.h"
#include "data/sha256.h"

namespace electra::data {

Vocabulary Vocabulary::load(const std::string& path) {
  check_input_file(path, path, "a vocabulary file (vocab.txt: one token a line)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open the vocabulary (check --vocab)");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string bytes = buffer.str();
  std::vector<std::string> tokens;
  // A UTF-8 byte-order mark (editors on Windows write one) is not part of the first token.
  size_t start = bytes.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
  while (start < bytes.size()) {
    size_t end = bytes.find('\n', start);
    if (end == std::string::npos) end = bytes.size();
    std::string line = bytes.substr(start, end - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.pop_back();
    }
    tokens.push_back(std::move(line));
    start = end + 1;
  }
  if (tokens.empty()) throw std::runtime_error(path + ": the vocabulary is empty");
  return build(std::move(tokens), path, sha256_hex(bytes));
}

Vocabulary Vocabulary::from_tokens(std::vector<std::string> tokens, std::string source) {
  std::string joined;  // the bytes of the vocab.txt these tokens make
  for (const auto& token : tokens) joined += token + "\n";
  const std::string sha = sha256_hex(joined);
  return build(std::move(tokens), std::move(source), sha);
}

Vocabulary Vocabulary::build(std::vector<std::string> tokens, std::string source,
                             std::string sha256) {
  Vocabulary vocab;
  vocab.tokens_ = std::move(tokens);
  vocab.source_ = std::move(source);
  vocab.sha256_ = std::move(sha256);
  vocab.index();
  return vocab;
}

void Vocabulary::index() {
  ids_.reserve(tokens_.size());
  for (size_t id = 0; id < tokens_.size(); ++id) {
    std::string_view token = tokens_[id];
    const auto [at, inserted] = ids_.emplace(token, int32_t(id));
    if (!inserted && !token.empty()) {
      // A repeated token makes one of its ids unreachable (and shifts nothing a model could
      // notice): refused, as a broken file rather than guessed around.
      throw std::runtime_error(source_ + " line " + std::to_string(id + 1) + ": '" +
                               std::string(token) + "' repeats line " +
                               std::to_string(at->second + 1) +
                               "; each token must appear once in a vocabulary");
    }
    if (token.size() > 2 && token.compare(0, 2, "##") == 0)
      continuation_[token.substr(2)] = int32_t(id);
    max_token_bytes_ = std::max(max_token_bytes_, token.size());
  }
  int32_t* slots[] = {&special_.pad, &special_.unk, &special_.cls, &special_.sep, &special_.mask};
  for (size_t i = 0; i < 5; ++i) {
    auto id = find(kSpecialTokens[i]);
    if (!id) {
      throw std::runtime_error(source_ + ": the vocabulary has no " + kSpecialTokens[i] +
                               " token (a BERT-style vocab.txt lists [PAD] [UNK] [CLS] [SEP] "
                               "[MASK])");
    }
    *slots[i] = *id;
  }
}

std::optional<int32_t> Vocabulary::find(std::string_view token) const {
  auto it = ids_.find(token);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

std::optional<int32_t> Vocabulary::find_continuation(std::string_view piece) const {
  auto it = continuation_.find(piece);
  if (it == continuation_.end()) return std::nullopt;
  return it->second;
}

}  // namespace electra::data
