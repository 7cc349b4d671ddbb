#include "app/finetune/tag_encoding.h"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace electra::finetune {

std::map<std::string, int32_t> tag_labels(const TagFile& file) {
  std::set<std::string> tags;
  for (const auto& sentence : file.sentences)
    tags.insert(sentence.tags.begin(), sentence.tags.end());
  std::map<std::string, int32_t> labels;
  for (const auto& tag : tags) labels.emplace(tag, int32_t(labels.size()));
  return labels;
}

std::vector<TagFeature> encode_tagged(const TagFile& file,
                                      const data::WordPieceTokenizer& tokenizer,
                                      const std::map<std::string, int32_t>& labels,
                                      int64_t max_seq_len, int64_t stride,
                                      TagEncodingStats* stats) {
  if (max_seq_len < 3) throw std::invalid_argument("--max-seq-len must be 3 or more");
  if (stride < 1) throw std::invalid_argument("--doc-stride must be 1 or more");
  TagEncodingStats local;
  TagEncodingStats& counts = stats ? *stats : local;
  const data::SpecialTokenIds& special = tokenizer.vocab().special();
  const int64_t capacity = max_seq_len - 2;
  std::vector<TagFeature> features;
  for (size_t s = 0; s < file.sentences.size(); ++s) {
    const TagSentence& sentence = file.sentences[s];
    // The pieces of the sentence, and where each word starts.
    std::vector<int32_t> pieces;
    std::vector<int64_t> first_piece;
    for (const auto& word : sentence.words) {
      first_piece.push_back(int64_t(pieces.size()));
      const size_t before = pieces.size();
      tokenizer.encode(word, pieces);
      if (pieces.size() == before) pieces.push_back(special.unk), ++counts.empty_words;
    }
    std::vector<int32_t> word_label(sentence.words.size(), kIgnoredLabel);
    for (size_t w = 0; w < sentence.words.size(); ++w) {
      const auto found = labels.find(sentence.tags[w]);
      if (found != labels.end()) {
        word_label[w] = found->second;
      } else {
        ++counts.unknown_tags;
      }
    }
    // Windows over the pieces, as SQuAD's over a context.
    std::vector<std::pair<int64_t, int64_t>> windows;  // start, length
    for (int64_t start = 0;;) {
      const int64_t length = std::min(int64_t(pieces.size()) - start, capacity);
      windows.push_back({start, length});
      if (start + length >= int64_t(pieces.size())) break;
      start += std::min(length, stride);
    }
    // Each word's window: the most context around its first piece (the first on ties).
    std::vector<size_t> word_window(sentence.words.size(), 0);
    for (size_t w = 0; w < sentence.words.size(); ++w) {
      double best = -1;
      for (size_t k = 0; k < windows.size(); ++k) {
        const auto [start, length] = windows[k];
        const int64_t p = first_piece[w], end = start + length - 1;
        if (p < start || p > end) continue;
        const double score = double(std::min(p - start, end - p)) + 0.01 * double(length);
        if (score > best) best = score, word_window[w] = k;
      }
    }
    if (windows.size() > 1) {
      ++counts.windowed_sentences;
      for (size_t w = 0; w < sentence.words.size(); ++w)
        counts.windowed_words += first_piece[w] >= capacity ? 1 : 0;
    }
    for (size_t k = 0; k < windows.size(); ++k) {
      const auto [start, length] = windows[k];
      TagFeature feature;
      feature.sentence = s;
      feature.window = int(k);
      feature.input_ids.push_back(special.cls);
      feature.input_ids.insert(feature.input_ids.end(), pieces.begin() + start,
                               pieces.begin() + start + length);
      feature.input_ids.push_back(special.sep);
      feature.labels.assign(feature.input_ids.size(), kIgnoredLabel);
      feature.words.assign(feature.input_ids.size(), -1);
      for (size_t w = 0; w < sentence.words.size(); ++w) {
        if (word_window[w] != k) continue;
        const size_t position = size_t(1 + first_piece[w] - start);
        feature.labels[position] = word_label[w];
        feature.words[position] = int32_t(w);
      }
      features.push_back(std::move(feature));
      ++counts.features;
    }
    ++counts.sentences;
    counts.words += long(sentence.words.size());
  }
  return features;
}

}  // namespace electra::finetune
