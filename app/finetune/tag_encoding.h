// Tagged sentences as model inputs for token tagging, as HuggingFace's run_ner builds them: each
// word split into pieces, its label on the first piece, the other pieces (and [CLS], [SEP]) left
// out of the loss. A sentence of more than max_seq_len - 2 pieces is not cut: it goes in windows
// of that many pieces, `stride` apart, the last reaching its end, and each word is predicted from
// the window that gives its first piece the most context (BERT's rule for SQuAD windows), so
// every word gets a prediction.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "app/finetune/tagged_text.h"
#include "data/wordpiece_tokenizer.h"

namespace electra::finetune {

constexpr int32_t kIgnoredLabel = -100;

struct TagFeature {
  size_t sentence = 0;  // index into TagFile::sentences
  int window = 0;
  std::vector<int32_t> input_ids;
  std::vector<int32_t> labels;  // per position: the word's label id, or kIgnoredLabel
  std::vector<int32_t> words;   // per position: the word whose prediction this is, or -1
};

struct TagEncodingStats {
  long sentences = 0, features = 0, words = 0;
  long windowed_sentences = 0;  // sentences longer than one window
  long windowed_words = 0;      // words of those beyond the first window
  long unknown_tags = 0;        // gold tags not among the labels (not in the loss; counted)
  long empty_words = 0;         // words without any piece, given [UNK]
};

// `labels`: tag -> id (from the training file). Throws std::invalid_argument naming the option
// for a max_seq_len below 3 or a stride below 1.
std::vector<TagFeature> encode_tagged(const TagFile& file,
                                      const data::WordPieceTokenizer& tokenizer,
                                      const std::map<std::string, int32_t>& labels,
                                      int64_t max_seq_len, int64_t stride,
                                      TagEncodingStats* stats = nullptr);

// The labels of a training file: its tags in sorted order.
std::map<std::string, int32_t> tag_labels(const TagFile& file);

}  // namespace electra::finetune
