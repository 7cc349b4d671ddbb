// SQuAD windows, offsets and training targets, on a context of one-token words so the positions
// can be counted by hand.
#include <gtest/gtest.h>

#include "app/finetune/squad_features.h"
#include "unit/finetune/squad_test_words.h"

namespace electra::finetune {
namespace {

using testing::twenty_words;
using testing::word_vocab;

SquadFile one_question(const std::string& answer_text, long answer_start, bool aligned = true) {
  SquadFile file;
  SquadExample example;
  example.id = "q";
  example.question = "what is";
  example.context = twenty_words();
  example.answers.push_back({answer_text, answer_start, aligned});
  file.examples.push_back(example);
  return file;
}

TEST(SquadFeatures, AContextLongerThanThreeWindows) {
  const data::WordPieceTokenizer tokenizer(word_vocab(), true);
  const std::string text = twenty_words();
  // Question "what is": 2 tokens; 13 positions leave 8 for the context; windows 4 apart.
  const SquadFile file = one_question("w6 w7 w8 w9", long(text.find("w6")));
  SquadFeatureStats stats;
  const auto features = squad_features(file, tokenizer, {13, 4, 8}, /*training=*/true, &stats);
  ASSERT_EQ(features.size(), 4u);
  EXPECT_EQ(stats.features, 4);
  const std::vector<int64_t> offsets{0, 4, 8, 12};
  for (size_t w = 0; w < 4; ++w) {
    const SquadFeature& f = features[w];
    EXPECT_EQ(f.context_offset, offsets[w]);
    EXPECT_EQ(f.context_begin, 4);  // [CLS] what is [SEP]
    ASSERT_EQ(f.input_ids.size(), 13u);
    EXPECT_EQ(f.segment_ids[3], 0);
    EXPECT_EQ(f.segment_ids[4], 1);
    EXPECT_EQ(f.input_ids.back(), tokenizer.vocab().special().sep);
    // Offsets: position 4 + k holds word offsets[w] + k.
    for (int64_t k = 0; k < 8; ++k) {
      const data::TokenSpan span = f.spans[size_t(4 + k)];
      EXPECT_EQ(text.substr(span.begin, span.end - span.begin),
                "w" + std::to_string(offsets[w] + k));
    }
  }
  // The last window reaches the end of the context (w19).
  EXPECT_EQ(features[3].input_ids[11], *tokenizer.vocab().find("w19"));
  // Word 6 is in windows 0 (context 0..7: min(6, 1) + 0.08) and 1 (4..11: min(2, 5) + 0.08).
  EXPECT_EQ(features[0].max_context[4 + 6], 0);
  EXPECT_EQ(features[1].max_context[4 + 2], 1);
  // The answer (words 6..9) crosses the boundary of window 0: only window 1 holds all of it;
  // the others point at [CLS].
  EXPECT_EQ(features[0].start, 0);
  EXPECT_EQ(features[0].end, 0);
  EXPECT_EQ(features[1].start, 4 + 2);
  EXPECT_EQ(features[1].end, 4 + 5);
  EXPECT_EQ(features[2].start, 0);
  EXPECT_EQ(features[3].start, 0);
}

TEST(SquadFeatures, LongQuestionsUnalignedAnswersAndBadOptions) {
  const data::WordPieceTokenizer tokenizer(word_vocab(), true);
  SquadFile file = one_question("w1", 3);
  file.examples[0].question = "what is what is what is";
  SquadFeatureStats stats;
  const auto features = squad_features(file, tokenizer, {20, 4, 4}, true, &stats);
  EXPECT_EQ(stats.long_questions, 1);
  EXPECT_EQ(features[0].context_begin, 6);  // [CLS] + 4 question tokens + [SEP]
  EXPECT_EQ(features[0].start, 7);
  // An answer not where it says: skipped for training, counted; kept for evaluation.
  const SquadFile unaligned = one_question("w1", 0, /*aligned=*/false);
  SquadFeatureStats skipped;
  EXPECT_TRUE(squad_features(unaligned, tokenizer, {20, 4, 4}, true, &skipped).empty());
  EXPECT_EQ(skipped.skipped_unaligned, 1);
  EXPECT_EQ(squad_features(unaligned, tokenizer, {20, 4, 4}, false).size(), 3u);
  // v2.0's impossible questions train towards [CLS].
  SquadFile impossible = one_question("w1", 3);
  impossible.examples[0].answers.clear();
  impossible.examples[0].impossible = true;
  for (const auto& f : squad_features(impossible, tokenizer, {20, 4, 4}, true)) {
    EXPECT_EQ(f.start, 0);
    EXPECT_EQ(f.end, 0);
  }
  EXPECT_THROW(squad_features(file, tokenizer, {67, 128, 64}, true), std::invalid_argument);
  EXPECT_THROW(squad_features(file, tokenizer, {384, 0, 64}, true), std::invalid_argument);
}

}  // namespace
}  // namespace electra::finetune
