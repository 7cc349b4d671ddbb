// Learns a WordPiece vocabulary from a corpus, as HuggingFace's WordPieceTrainer does: words
// come from the BERT pre-tokenizer; the alphabet's characters (word-initial and "##"
// continuation forms) seed the vocabulary, then the most frequent adjacent pair of pieces is
// merged until the size is reached. The special tokens come first.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "data/bert_pre_tokenizer.h"

namespace electra::data {

struct VocabBuilderOptions {
  size_t vocab_size = 30522;
  long long min_frequency = 2;   // a pair is merged only if it occurs this often
  size_t limit_alphabet = 1000;  // most frequent characters kept; rarer ones become [UNK]
};

// Word frequencies of normalised, pre-tokenised text.
class WordCounter final : public WordSink {
 public:
  explicit WordCounter(bool lowercase);
  void add_text(std::string_view text);
  void on_word(std::string_view word) override { ++counts_[std::string(word)]; }
  void on_special_token(int32_t) override {}
  const std::unordered_map<std::string, long long>& counts() const { return counts_; }
  uint64_t invalid_utf8() const { return stats_.invalid_utf8; }

 private:
  BertPreTokenizer pre_tokenizer_;
  std::unordered_map<std::string, long long> counts_;
  TextStats stats_;
};

// The learned vocabulary, one token per entry in id order. Stops early (fewer tokens) when no
// pair reaches min_frequency. Throws when vocab_size cannot hold the specials and the alphabet.
std::vector<std::string> build_wordpiece_vocab(
    const std::unordered_map<std::string, long long>& word_counts,
    const VocabBuilderOptions& options);

}  // namespace electra::data
