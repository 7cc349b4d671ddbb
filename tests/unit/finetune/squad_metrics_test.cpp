// SQuAD's answer normalisation, exact match and F1 against hand-computed values and against the
// official script's normalize_answer run by Python on 1,044 texts (tests/data/README.md).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "app/finetune/squad_metrics.h"

namespace electra::finetune {
namespace {

TEST(SquadNormalization, LowerCasePunctuationArticlesAndWhitespace) {
  EXPECT_EQ(normalize_answer("The  Cat!"), "cat");
  EXPECT_EQ(normalize_answer("a an the"), "");
  EXPECT_EQ(normalize_answer("Theatre and thesis"), "theatre and thesis");  // words, not prefixes
  EXPECT_EQ(normalize_answer("U.S.A."), "usa");
  EXPECT_EQ(normalize_answer("don't"), "dont");
  EXPECT_EQ(normalize_answer("the_cat"), "thecat");         // '_' is punctuation: removed first
  EXPECT_EQ(normalize_answer("«The» end"), "« » end");      // « is not ASCII punctuation
  EXPECT_EQ(normalize_answer("x\u3000the\u3000y"), "x y");  // ideographic space
}

TEST(SquadNormalization, AsTheOfficialScriptOnPython) {
  std::ifstream in(std::string(ELECTRA_TEST_DATA_DIR) + "/squad_normalization.jsonl");
  ASSERT_TRUE(in) << "tests/data/squad_normalization.jsonl";
  long checked = 0;
  for (std::string line; std::getline(in, line);) {
    const auto pair = nlohmann::json::parse(line);
    const std::string text = pair[0], expected = pair[1];
    EXPECT_EQ(normalize_answer(text), expected) << "text: " << text;
    ++checked;
  }
  EXPECT_EQ(checked, 1044);
}

TEST(SquadScores, ExactMatchAndTokenF1) {
  EXPECT_EQ(exact_match("the cat", "Cat."), 1.0);
  EXPECT_EQ(exact_match("cat", "cats"), 0.0);
  // [big, cat, sat] against [cat, sat, down]: 2 shared, precision 2/3, recall 2/3.
  EXPECT_NEAR(token_f1("the big cat sat", "a cat sat down", SquadVersion::kV1), 2.0 / 3.0, 1e-15);
  // Repeated tokens count as often as both sides have them: [cat, cat] against [cat] share 1,
  // precision 1/2, recall 1 -> 2/3.
  EXPECT_NEAR(token_f1("cat cat", "cat", SquadVersion::kV1), 2.0 / 3.0, 1e-15);
  EXPECT_EQ(token_f1("dog", "cat", SquadVersion::kV1), 0.0);
}

TEST(SquadScores, TheBestOverSeveralGoldAnswers) {
  const std::vector<std::string> golds{"Broncos", "Denver Broncos", "the Denver Broncos team"};
  const AnswerScore score = score_answer("Denver Broncos", golds, SquadVersion::kV1);
  EXPECT_EQ(score.exact, 1.0);
  EXPECT_EQ(score.f1, 1.0);
  // Each maximised on its own: no exact match, the best F1 is against "big dog" (1 of 2 shared
  // with a 1-token prediction: precision 1, recall 1/2 -> 2/3), not "a dog is big" (1/3 recall).
  const AnswerScore partial = score_answer("dog", {"big dog", "a dog is big"}, SquadVersion::kV1);
  EXPECT_EQ(partial.exact, 0.0);
  EXPECT_NEAR(partial.f1, 2.0 / 3.0, 1e-15);
}

TEST(SquadScores, EmptyAnswersAsEachVersionScoresThem) {
  // v2.0: an unanswerable question (no gold answer) is right only with an empty prediction.
  EXPECT_EQ(score_answer("", {}, SquadVersion::kV2).exact, 1.0);
  EXPECT_EQ(score_answer("", {}, SquadVersion::kV2).f1, 1.0);
  EXPECT_EQ(score_answer("Denver", {}, SquadVersion::kV2).f1, 0.0);
  EXPECT_EQ(score_answer("", {"Denver"}, SquadVersion::kV2).f1, 0.0);
  // A gold answer that normalises to nothing: v1.1 gives exact match 1 but F1 0 ("a" vs "the");
  // v2.0 drops such gold answers, so the question counts as unanswerable and "a" (also nothing
  // once normalised) scores 1 on both.
  EXPECT_EQ(score_answer("a", {"the"}, SquadVersion::kV1).exact, 1.0);
  EXPECT_EQ(score_answer("a", {"the"}, SquadVersion::kV1).f1, 0.0);
  EXPECT_EQ(score_answer("a", {"the"}, SquadVersion::kV2).f1, 1.0);
}

TEST(SquadScores, VersionOneSummaryCountsAMissingPredictionAsZero) {
  const std::vector<SquadQuestion> questions{{"q1", {"cat"}}, {"q2", {"big dog"}}, {"q3", {"x"}}};
  const auto metrics = squad_v1_metrics(questions, {{"q1", "the cat"}, {"q2", "dog"}});
  EXPECT_NEAR(metrics["exact_match"].get<double>(), 100.0 / 3.0, 1e-12);
  EXPECT_NEAR(metrics["f1"].get<double>(), 100.0 * (1 + 2.0 / 3.0) / 3.0, 1e-12);
  EXPECT_EQ(metrics["unanswered"], 1);
}

TEST(SquadScores, VersionTwoSummaryAndTheBestThresholds) {
  const std::vector<SquadQuestion> questions{{"q1", {"cat"}}, {"q2", {}}, {"q3", {"big dog"}}};
  const std::map<std::string, std::string> predictions{{"q1", "cat"}, {"q2", "dog"}, {"q3", "dog"}};
  const std::map<std::string, double> na{{"q1", 0.1}, {"q2", 0.8}, {"q3", 0.5}};
  const auto metrics = squad_v2_metrics(questions, predictions, na);
  // Raw: q1 1/1, q2 0/0, q3 0/(2/3).
  EXPECT_NEAR(metrics["exact"].get<double>(), 100.0 / 3.0, 1e-12);
  EXPECT_NEAR(metrics["f1"].get<double>(), 100.0 * (5.0 / 3.0) / 3.0, 1e-12);
  EXPECT_NEAR(metrics["HasAns_exact"].get<double>(), 50.0, 1e-12);
  EXPECT_NEAR(metrics["HasAns_f1"].get<double>(), 100.0 * (5.0 / 3.0) / 2.0, 1e-12);
  EXPECT_EQ(metrics["HasAns_total"], 2);
  EXPECT_NEAR(metrics["NoAns_exact"].get<double>(), 0.0, 1e-12);
  EXPECT_EQ(metrics["NoAns_total"], 1);
  // find_best_thresh: start at 1 (the one unanswerable question), then by probability:
  // exact: q1 +1 -> 2 (threshold 0.1), q3 +0, q2 -1 -> best 2 of 3 at 0.1;
  // F1: q1 +1 -> 2 (0.1), q3 +2/3 -> 8/3 (0.5), q2 -1 -> best 8/3 of 3 at 0.5.
  EXPECT_NEAR(metrics["best_exact"].get<double>(), 200.0 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(metrics["best_exact_thresh"].get<double>(), 0.1);
  EXPECT_NEAR(metrics["best_f1"].get<double>(), 100.0 * (8.0 / 3.0) / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(metrics["best_f1_thresh"].get<double>(), 0.5);
  // A threshold of 0.6: q2 (0.8) is predicted unanswerable, which is right.
  const auto thresholded = squad_v2_metrics(questions, predictions, na, 0.6);
  EXPECT_NEAR(thresholded["exact"].get<double>(), 200.0 / 3.0, 1e-12);
  EXPECT_NEAR(thresholded["f1"].get<double>(), 100.0 * (8.0 / 3.0) / 3.0, 1e-12);
}

}  // namespace
}  // namespace electra::finetune
