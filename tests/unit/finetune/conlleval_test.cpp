// conlleval's chunk counts, precision, recall and F1 on hand-made sequences in the IOB2 (BIO),
// IOB1 and hyphenated-type cases, computed by hand from the script's rules.
#include <gtest/gtest.h>

#include "app/finetune/conlleval.h"

namespace electra::finetune {
namespace {

TEST(Conlleval, Iob2ChunksPerTypeAndTokenAccuracy) {
  // gold NP[0-1] VP[2] NP[4]; guessed NP[0-1] VP[2] PP[4]: 2 of 3 right.
  const ChunkScore score =
      conlleval({{{"B-NP", "I-NP", "B-VP", "O", "B-NP"}, {"B-NP", "I-NP", "B-VP", "O", "B-PP"}}});
  EXPECT_EQ(score.all.correct, 2);
  EXPECT_EQ(score.all.guessed, 3);
  EXPECT_EQ(score.all.gold, 3);
  EXPECT_NEAR(score.all.f1(), 200.0 / 3.0, 1e-12);
  EXPECT_NEAR(score.accuracy(), 80.0, 1e-12);
  EXPECT_NEAR(score.by_type.at("NP").precision(), 100.0, 1e-12);
  EXPECT_NEAR(score.by_type.at("NP").recall(), 50.0, 1e-12);
  EXPECT_NEAR(score.by_type.at("NP").f1(), 200.0 / 3.0, 1e-12);
  EXPECT_NEAR(score.by_type.at("VP").f1(), 100.0, 1e-12);
  EXPECT_EQ(score.by_type.at("PP").gold, 0);
  EXPECT_EQ(score.by_type.at("PP").f1(), 0.0);
}

TEST(Conlleval, AnIAfterOStartsAChunk) {
  // The guess breaks IOB2 (I- without B-) but marks the same chunk: it counts.
  const ChunkScore score = conlleval({{{"O", "B-NP", "I-NP"}, {"O", "I-NP", "I-NP"}}});
  EXPECT_EQ(score.all.correct, 1);
  EXPECT_EQ(score.all.guessed, 1);
  EXPECT_NEAR(score.all.f1(), 100.0, 1e-12);
  EXPECT_NEAR(score.accuracy(), 200.0 / 3.0, 1e-12);
}

TEST(Conlleval, ATypeChangeInsideAChunkSplitsIt) {
  // Guessed NP[0] VP[1] against gold NP[0-1]: no chunk right.
  const ChunkScore score = conlleval({{{"B-NP", "I-NP"}, {"B-NP", "I-VP"}}});
  EXPECT_EQ(score.all.correct, 0);
  EXPECT_EQ(score.all.guessed, 2);
  EXPECT_EQ(score.all.gold, 1);
  EXPECT_EQ(score.all.f1(), 0.0);
}

TEST(Conlleval, Iob1WhereBOnlySeparatesTwoChunksOfOneType) {
  // gold NP[0-1] NP[2-3] VP[5]; guessed NP[0-3] VP[5]: only VP right.
  const ChunkScore score = conlleval({{{"I-NP", "I-NP", "B-NP", "I-NP", "O", "I-VP"},
                                       {"I-NP", "I-NP", "I-NP", "I-NP", "O", "I-VP"}}});
  EXPECT_EQ(score.all.correct, 1);
  EXPECT_EQ(score.all.guessed, 2);
  EXPECT_EQ(score.all.gold, 3);
  EXPECT_NEAR(score.all.precision(), 50.0, 1e-12);
  EXPECT_NEAR(score.all.recall(), 100.0 / 3.0, 1e-12);
  EXPECT_NEAR(score.all.f1(), 40.0, 1e-12);
  EXPECT_NEAR(score.accuracy(), 500.0 / 6.0, 1e-12);
}

TEST(Conlleval, SentencesEndChunksAndTypesMayHoldHyphens) {
  // An I- at the start of a sentence starts a chunk: two NP-TMP chunks, not one.
  const ChunkScore score = conlleval({{{"B-NP-TMP", "I-NP-TMP"}, {"B-NP-TMP", "I-NP-TMP"}},
                                      {{"I-NP-TMP", "O"}, {"I-NP-TMP", "O"}}});
  EXPECT_EQ(score.all.gold, 2);
  EXPECT_EQ(score.all.correct, 2);
  EXPECT_EQ(score.by_type.at("NP-TMP").gold, 2);
  EXPECT_EQ(score.tokens, 4);
  EXPECT_THROW(conlleval({{{"O"}, {"O", "O"}}}), std::invalid_argument);
}

}  // namespace
}  // namespace electra::finetune
