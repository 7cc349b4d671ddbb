// BERT's text normalisation and pre-tokenisation, as HuggingFace's BertNormalizer and
// BertPreTokenizer do it: special tokens written in the raw text are kept whole; the rest is
// cleaned (control characters and U+FFFD dropped, whitespace unified), CJK ideographs are split
// off, accents stripped (NFD, drop Mn) and lowercased unless cased, and the text is split on
// whitespace and punctuation into words.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace electra::data {

class Vocabulary;

// Receives the pre-tokenised pieces of a text in order. The _at forms also give the bytes of the
// text a piece came from, [begin, end) (a word's first to last character read, so control
// characters dropped inside it are within); by default they pass the piece on without them.
class WordSink {
 public:
  virtual ~WordSink() = default;
  virtual void on_word(std::string_view normalized_word) = 0;
  virtual void on_special_token(int32_t id) = 0;  // [CLS], [MASK]... written in the text
  virtual void on_word_at(std::string_view normalized_word, size_t /*begin*/, size_t /*end*/) {
    on_word(normalized_word);
  }
  virtual void on_special_token_at(int32_t id, size_t /*begin*/, size_t /*end*/) {
    on_special_token(id);
  }
};

struct TextStats {
  uint64_t invalid_utf8 = 0;  // invalid sequences replaced by U+FFFD (then dropped)
};

class BertPreTokenizer {
 public:
  // How special tokens written in the text are treated.
  enum class SpecialTokens {
    kKeep,   // "[MASK]" in the text is the [MASK] token (HuggingFace's tokenizers)
    kSplit,  // "[MASK]" is plain text: "[", "mask", "]" (BERT's and ELECTRA's data scripts)
  };
  // `vocab` supplies the ids of the special tokens; lowercase=false is the cased mode (no
  // lowercasing, no accent stripping).
  BertPreTokenizer(const Vocabulary& vocab, bool lowercase,
                   SpecialTokens special_tokens = SpecialTokens::kKeep);

  void split(std::string_view text, WordSink& sink, TextStats* stats = nullptr) const;
  bool lowercase() const { return lowercase_; }

 private:
  // `base`: the offset of `text` in the text given to split.
  void split_plain(std::string_view text, size_t base, WordSink& sink, TextStats& stats) const;

  struct SpecialToken {
    std::string text;
    int32_t id;
  };
  std::vector<SpecialToken> specials_;  // longest first, so a match is leftmost-longest
  bool lowercase_;
};

}  // namespace electra::data
