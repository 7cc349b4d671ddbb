// A WordPiece vocabulary (vocab.txt: one token a line, the id is the line number).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace electra::data {

struct SpecialTokenIds {
  int32_t pad, unk, cls, sep, mask;
};

class Vocabulary {
 public:
  // Reads vocab.txt; throws std::runtime_error naming the file when it is missing, empty or lacks
  // a special token. As HuggingFace does, trailing whitespace is trimmed and a repeated token
  // keeps its last line's id.
  static Vocabulary load(const std::string& path);
  static Vocabulary from_tokens(std::vector<std::string> tokens, std::string source = "<memory>");
  // The lookup tables hold views into tokens_: moving keeps them valid, copying would not.
  Vocabulary(Vocabulary&&) = default;
  Vocabulary& operator=(Vocabulary&&) = default;
  Vocabulary(const Vocabulary&) = delete;
  Vocabulary& operator=(const Vocabulary&) = delete;

  size_t size() const { return tokens_.size(); }
  const std::string& token(int32_t id) const { return tokens_.at(size_t(id)); }
  std::optional<int32_t> find(std::string_view token) const;
  // Lookup of a continuation piece by its text without the "##" prefix.
  std::optional<int32_t> find_continuation(std::string_view piece) const;
  const SpecialTokenIds& special() const { return special_; }
  size_t max_token_bytes() const { return max_token_bytes_; }
  const std::string& sha256() const { return sha256_; }  // of the file's bytes
  const std::string& source() const { return source_; }

 private:
  Vocabulary() = default;
  static Vocabulary build(std::vector<std::string> tokens, std::string source, std::string sha256);
  void index();

  std::vector<std::string> tokens_;                             // [id]
  std::unordered_map<std::string_view, int32_t> ids_;           // views into tokens_
  std::unordered_map<std::string_view, int32_t> continuation_;  // "##x" -> id, keyed by "x"
  SpecialTokenIds special_{};
  size_t max_token_bytes_ = 0;
  std::string sha256_;
  std::string source_;
};

// The special tokens, in the order a new vocabulary lists them first.
inline constexpr const char* kSpecialTokens[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};

}  // namespace electra::data
