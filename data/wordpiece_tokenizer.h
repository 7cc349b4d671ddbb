// BERT's WordPiece tokenizer: BertPreTokenizer words -> greedy longest-match pieces with "##"
// continuations; [UNK] for a word of over 100 characters or with a part that matches nothing.
// Output is identical to HuggingFace tokenizers' BertNormalizer + BertPreTokenizer + WordPiece
// + BertProcessing with the same vocab.txt.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "data/bert_pre_tokenizer.h"
#include "data/vocabulary.h"

namespace electra::data {

// The bytes [begin, end) of the text a token came from.
struct TokenSpan {
  size_t begin = 0, end = 0;
};

class WordPieceTokenizer {
 public:
  static constexpr size_t kMaxCharsPerWord = 100;

  WordPieceTokenizer(
      std::shared_ptr<const Vocabulary> vocab, bool lowercase,
      BertPreTokenizer::SpecialTokens special_tokens = BertPreTokenizer::SpecialTokens::kKeep);

  // Appends the ids of `text` without [CLS]/[SEP].
  void encode(std::string_view text, std::vector<int32_t>& ids, TextStats* stats = nullptr) const;
  // The same, and for each id appended the bytes of `text` it came from: a word's pieces get
  // their own characters when normalising kept the word's length in characters (the common case),
  // else (an accent stripped, a character dropped) and for [UNK] they share the word's bytes; a
  // word is what BERT's pre-tokeniser splits, so punctuation is apart. `spans` is first padded to
  // the size of `ids` with empty spans.
  void encode_with_spans(std::string_view text, std::vector<int32_t>& ids,
                         std::vector<TokenSpan>& spans, TextStats* stats = nullptr) const;
  // [CLS] a [SEP], or [CLS] a [SEP] b [SEP] when `b` is given (BertProcessing).
  std::vector<int32_t> encode_with_specials(std::string_view a, const std::string_view* b = nullptr,
                                            TextStats* stats = nullptr) const;
  // Appends the pieces of one normalised word.
  void encode_word(std::string_view word, std::vector<int32_t>& ids) const;

  const Vocabulary& vocab() const { return *vocab_; }
  const BertPreTokenizer& pre_tokenizer() const { return pre_tokenizer_; }
  bool lowercase() const { return pre_tokenizer_.lowercase(); }

 private:
  std::shared_ptr<const Vocabulary> vocab_;
  BertPreTokenizer pre_tokenizer_;
};

}  // namespace electra::data
