// What the SQuAD feature and decoding tests share: a vocabulary of one-token words "w0".."w19"
// (and "what", "is"), and a context of those twenty words, so positions can be counted by hand.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "data/vocabulary.h"

namespace electra::finetune::testing {

inline std::shared_ptr<const data::Vocabulary> word_vocab() {
  std::vector<std::string> tokens{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "what", "is"};
  for (int i = 0; i < 20; ++i) tokens.push_back("w" + std::to_string(i));
  return std::make_shared<const data::Vocabulary>(data::Vocabulary::from_tokens(tokens));
}

// "w0 w1 ... w19"
inline std::string twenty_words() {
  std::string text;
  for (int i = 0; i < 20; ++i) text += (i ? " " : "") + ("w" + std::to_string(i));
  return text;
}

}  // namespace electra::finetune::testing
