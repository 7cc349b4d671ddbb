// Token-tagging inputs: labels on first pieces only, long sentences in windows where every word
// is predicted exactly once.
#include <gtest/gtest.h>

#include "app/finetune/tag_encoding.h"

namespace electra::finetune {
namespace {

std::shared_ptr<const data::Vocabulary> vocab() {
  std::vector<std::string> tokens{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
                                  "the",   "cat",   "un",    "##aff", "##able"};
  for (int i = 0; i < 10; ++i) tokens.push_back("w" + std::to_string(i));
  return std::make_shared<const data::Vocabulary>(data::Vocabulary::from_tokens(tokens));
}

TagFile file_of(std::vector<std::vector<std::string>> words,
                std::vector<std::vector<std::string>> tags) {
  TagFile file;
  for (size_t s = 0; s < words.size(); ++s) {
    TagSentence sentence;
    sentence.words = words[s];
    sentence.tags = tags[s];
    file.sentences.push_back(sentence);
  }
  return file;
}

TEST(TagEncoding, TheLabelGoesOnTheFirstPieceOfEachWord) {
  const data::WordPieceTokenizer tokenizer(vocab(), true);
  const TagFile file = file_of({{"the", "unaffable", "cat"}}, {{"B-NP", "I-NP", "O"}});
  const auto labels = tag_labels(file);
  EXPECT_EQ(labels, (std::map<std::string, int32_t>{{"B-NP", 0}, {"I-NP", 1}, {"O", 2}}));
  TagEncodingStats stats;
  const auto features = encode_tagged(file, tokenizer, labels, 128, 64, &stats);
  ASSERT_EQ(features.size(), 1u);
  // [CLS] the un ##aff ##able cat [SEP]
  EXPECT_EQ(features[0].input_ids.size(), 7u);
  EXPECT_EQ(features[0].labels, (std::vector<int32_t>{-100, 0, 1, -100, -100, 2, -100}));
  EXPECT_EQ(features[0].words, (std::vector<int32_t>{-1, 0, 1, -1, -1, 2, -1}));
  EXPECT_EQ(stats.windowed_sentences, 0);
}

TEST(TagEncoding, ALongSentenceGoesInWindowsAndEveryWordIsPredictedOnce) {
  const data::WordPieceTokenizer tokenizer(vocab(), true);
  std::vector<std::string> words, tags;
  for (int i = 0; i < 10; ++i) words.push_back("w" + std::to_string(i)), tags.push_back("O");
  const TagFile file = file_of({words}, {tags});
  TagEncodingStats stats;
  // 4 pieces a window, 2 apart: words 0-3, 2-5, 4-7, 6-9.
  const auto features = encode_tagged(file, tokenizer, tag_labels(file), 6, 2, &stats);
  ASSERT_EQ(features.size(), 4u);
  // Each word from the window where it has the most context (min(left, right)).
  const std::vector<int> expected_window{0, 0, 0, 1, 1, 2, 2, 3, 3, 3};
  std::vector<int> predicted_in(10, -1);
  for (const auto& feature : features) {
    for (int32_t word : feature.words) {
      if (word < 0) continue;
      EXPECT_EQ(predicted_in[size_t(word)], -1) << "word " << word << " predicted twice";
      predicted_in[size_t(word)] = feature.window;
    }
  }
  EXPECT_EQ(predicted_in, expected_window);
  EXPECT_EQ(stats.windowed_sentences, 1);
  EXPECT_EQ(stats.windowed_words, 6);  // words 4..9 are beyond the first window
}

TEST(TagEncoding, UnknownTagsAndWordsWithoutPiecesAreCounted) {
  const data::WordPieceTokenizer tokenizer(vocab(), true);
  const TagFile train = file_of({{"the", "cat"}}, {{"B-NP", "I-NP"}});
  const TagFile dev = file_of({{"the", "\x07"}}, {{"B-NP", "B-XX"}});
  TagEncodingStats stats;
  const auto features = encode_tagged(dev, tokenizer, tag_labels(train), 128, 64, &stats);
  EXPECT_EQ(stats.unknown_tags, 1);
  EXPECT_EQ(stats.empty_words, 1);
  EXPECT_EQ(features[0].input_ids[2], tokenizer.vocab().special().unk);
  EXPECT_EQ(features[0].labels[2], kIgnoredLabel);
  EXPECT_EQ(features[0].words[2], 1);  // still predicted
  EXPECT_THROW(encode_tagged(dev, tokenizer, {}, 2, 1), std::invalid_argument);
}

}  // namespace
}  // namespace electra::finetune
