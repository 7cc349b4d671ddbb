#include "data/wordpiece_tokenizer.h"

#include "data/utf8.h"

namespace electra::data {
namespace {

bool is_continuation_byte(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

class IdCollector final : public WordSink {
 public:
  IdCollector(const WordPieceTokenizer& tokenizer, std::vector<int32_t>& ids)
      : tokenizer_(tokenizer), ids_(ids) {}
  void on_word(std::string_view word) override { tokenizer_.encode_word(word, ids_); }
  void on_special_token(int32_t id) override { ids_.push_back(id); }
  void on_word_at(std::string_view word, size_t, size_t) override {
    tokenizer_.encode_word(word, ids_);
  }
  void on_special_token_at(int32_t id, size_t, size_t) override { ids_.push_back(id); }

 private:
  const WordPieceTokenizer& tokenizer_;
  std::vector<int32_t>& ids_;
};

// Also the bytes each piece came from (see encode_with_spans).
class OffsetCollector final : public WordSink {
 public:
  OffsetCollector(const WordPieceTokenizer& tokenizer, std::string_view text,
                  std::vector<int32_t>& ids, std::vector<TokenSpan>& spans)
      : tokenizer_(tokenizer), text_(text), ids_(ids), spans_(spans) {}
  void on_word(std::string_view word) override { on_word_at(word, 0, 0); }
  void on_special_token(int32_t id) override { on_special_token_at(id, 0, 0); }
  void on_word_at(std::string_view word, size_t begin, size_t end) override {
    const size_t first = ids_.size();
    tokenizer_.encode_word(word, ids_);
    spans_.resize(ids_.size(), TokenSpan{begin, end});
    if (ids_.size() - first < 2) return;
    // Pieces of a word whose normalised form has as many characters as its text (no accent
    // stripped, nothing dropped): each piece gets its own characters.
    const char* raw = text_.data() + begin;
    const size_t raw_chars = count_code_points(raw, end - begin);
    if (raw_chars != count_code_points(word.data(), word.size())) return;
    const Vocabulary& vocab = tokenizer_.vocab();
    std::vector<size_t> lengths;  // of each piece, in characters
    for (size_t i = first; i < ids_.size(); ++i) {
      if (ids_[i] == vocab.special().unk) return;
      std::string_view piece = vocab.token(ids_[i]);
      if (i > first && piece.substr(0, 2) == "##") piece.remove_prefix(2);
      lengths.push_back(count_code_points(piece.data(), piece.size()));
    }
    size_t at = begin;
    for (size_t i = first, k = 0; i < ids_.size(); ++i, ++k) {
      size_t bytes = 0;
      for (size_t c = 0; c < lengths[k] && at + bytes < end; ++c) {
        ++bytes;
        while (at + bytes < end && is_continuation_byte(text_[at + bytes])) ++bytes;
      }
      spans_[i] = {at, i + 1 == ids_.size() ? end : at + bytes};
      at += bytes;
    }
  }
  void on_special_token_at(int32_t id, size_t begin, size_t end) override {
    ids_.push_back(id);
    spans_.push_back({begin, end});
  }

 private:
  const WordPieceTokenizer& tokenizer_;
  std::string_view text_;
  std::vector<int32_t>& ids_;
  std::vector<TokenSpan>& spans_;
};

}  // namespace

WordPieceTokenizer::WordPieceTokenizer(std::shared_ptr<const Vocabulary> vocab, bool lowercase,
                                       BertPreTokenizer::SpecialTokens special_tokens)
    : vocab_(std::move(vocab)), pre_tokenizer_(*vocab_, lowercase, special_tokens) {}

void WordPieceTokenizer::encode(std::string_view text, std::vector<int32_t>& ids,
                                TextStats* stats) const {
  IdCollector collector(*this, ids);
  pre_tokenizer_.split(text, collector, stats);
}

void WordPieceTokenizer::encode_with_spans(std::string_view text, std::vector<int32_t>& ids,
                                           std::vector<TokenSpan>& spans, TextStats* stats) const {
  spans.resize(ids.size(), TokenSpan{0, 0});
  OffsetCollector collector(*this, text, ids, spans);
  pre_tokenizer_.split(text, collector, stats);
}

std::vector<int32_t> WordPieceTokenizer::encode_with_specials(std::string_view a,
                                                              const std::string_view* b,
                                                              TextStats* stats) const {
  const SpecialTokenIds& special = vocab_->special();
  std::vector<int32_t> ids{special.cls};
  encode(a, ids, stats);
  ids.push_back(special.sep);
  if (b) {
    encode(*b, ids, stats);
    ids.push_back(special.sep);
  }
  return ids;
}

void WordPieceTokenizer::encode_word(std::string_view word, std::vector<int32_t>& ids) const {
  const int32_t unk = vocab_->special().unk;
  // Over 100 characters is [UNK] even for a word in the vocabulary (HF checks length first).
  if (word.size() > kMaxCharsPerWord &&
      count_code_points(word.data(), word.size()) > kMaxCharsPerWord) {
    ids.push_back(unk);
    return;
  }
  if (auto whole = vocab_->find(word)) {  // the common case: one lookup
    ids.push_back(*whole);
    return;
  }
  const size_t first_piece = ids.size();
  const size_t max_bytes = vocab_->max_token_bytes();
  size_t start = 0;
  while (start < word.size()) {
    size_t end = std::min(word.size(), start + max_bytes);
    while (end < word.size() && is_continuation_byte(word[end])) --end;  // a character boundary
    std::optional<int32_t> piece;
    while (end > start) {
      std::string_view candidate = word.substr(start, end - start);
      piece = start == 0 ? vocab_->find(candidate) : vocab_->find_continuation(candidate);
      if (piece) break;
      do --end;
      while (end > start && is_continuation_byte(word[end]));
    }
    if (!piece) {  // a part that matches nothing: the whole word is unknown
      ids.resize(first_piece);
      ids.push_back(unk);
      return;
    }
    ids.push_back(*piece);
    start = end;
  }
}

}  // namespace electra::data
