// Decoding start/end logits into answers across windows, on the windows of squad_features_test's
// layout (4 windows of 8 context words, the question 2 tokens: context positions 4..11).
#include <gtest/gtest.h>

#include "app/finetune/squad_decoding.h"
#include "unit/finetune/squad_test_words.h"

namespace electra::finetune {
namespace {

using testing::twenty_words;
using testing::word_vocab;

SquadFile file_of_one_question() {
  SquadFile file;
  SquadExample example;
  example.id = "q";
  example.question = "what is";
  example.context = twenty_words();
  file.examples.push_back(example);
  return file;
}

TEST(SquadDecoding, TheBestSpanOverWindowsWithItsRules) {
  const data::WordPieceTokenizer tokenizer(word_vocab(), true);
  const SquadFile file = file_of_one_question();
  const auto features = squad_features(file, tokenizer, {13, 4, 8}, false);
  ASSERT_EQ(features.size(), 4u);  // context words 0-7, 4-11, 8-15, 12-19
  std::vector<SpanLogits> logits(
      4, SpanLogits{std::vector<float>(13, -100.f), std::vector<float>(13, -100.f)});
  // Window 1: words 6..9 (positions 6..9), score 10.
  logits[1].start[6] = 5, logits[1].end[9] = 5;
  // Window 0: a higher pair starting at word 6, whose most context is window 1: not taken.
  logits[0].start[10] = 8, logits[0].end[11] = 8;
  // Window 2: end before start (word 13 to word 9): not taken.
  logits[2].start[9] = 60, logits[2].end[5] = 60;
  // Window 3: words 14..19 (word 14 has its most context here: min(2, 5) against window 2's
  // min(6, 1)), 6 tokens, score 18: taken only when answers may be that long.
  logits[3].start[6] = 9, logits[3].end[11] = 9;
  // [CLS]: the null score is the lowest of the windows': 1 + 1.
  logits[0].start[0] = 1, logits[0].end[0] = 1;
  logits[1].start[0] = 3, logits[1].end[0] = 3;
  for (size_t w = 2; w < 4; ++w) logits[w].start[0] = logits[w].end[0] = 50;
  const auto short_answers = decode_spans(file, features, logits, {20, 5});
  ASSERT_EQ(short_answers.size(), 1u);
  EXPECT_EQ(short_answers[0].id, "q");
  EXPECT_EQ(short_answers[0].text, "w6 w7 w8 w9");
  EXPECT_DOUBLE_EQ(short_answers[0].span_score, 10);
  EXPECT_DOUBLE_EQ(short_answers[0].null_score, 2);
  EXPECT_DOUBLE_EQ(short_answers[0].null_margin(), -8);
  EXPECT_EQ(decode_spans(file, features, logits, {20, 30})[0].text, "w14 w15 w16 w17 w18 w19");
  // v2.0: unanswerable when the margin exceeds the threshold.
  EXPECT_EQ(final_answers(short_answers, SquadVersion::kV2, -9).at("q"), "");
  EXPECT_EQ(final_answers(short_answers, SquadVersion::kV2, 0).at("q"), "w6 w7 w8 w9");
  EXPECT_EQ(final_answers(short_answers, SquadVersion::kV1, -9).at("q"), "w6 w7 w8 w9");
  EXPECT_DOUBLE_EQ(null_margins(short_answers).at("q"), -8);
  // With n_best 1 each window pairs only its single best start and end, among all positions as
  // BERT takes them: window 3's best start is [CLS] (50), so window 1's span wins.
  EXPECT_EQ(decode_spans(file, features, logits, {1, 30})[0].text, "w6 w7 w8 w9");
  EXPECT_THROW(decode_spans(file, features, {}, {}), std::invalid_argument);
}

}  // namespace
}  // namespace electra::finetune
