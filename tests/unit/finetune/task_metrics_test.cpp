// GLUE's metrics against values computed by hand.
#include <gtest/gtest.h>

#include "app/finetune/task_metrics.h"

namespace electra::finetune {
namespace {

TEST(TaskMetrics, AccuracyAndF1OfThePositiveClass) {
  const std::vector<int> predicted{1, 0, 1, 1}, gold{1, 1, 1, 0};
  EXPECT_DOUBLE_EQ(accuracy(predicted, gold), 0.5);
  // tp 2, fp 1, fn 1: 2*2 / (2*2 + 1 + 1)
  EXPECT_DOUBLE_EQ(f1_score(predicted, gold, 1), 4.0 / 6.0);
  // class 0: tp 0 -> 0
  EXPECT_DOUBLE_EQ(f1_score(predicted, gold, 0), 0.0);
}

TEST(TaskMetrics, MatthewsCorrelationForTwoAndThreeClasses) {
  // tp 2, tn 2, fp 1, fn 1: (2*2 - 1*1) / sqrt(3*3*3*3) = 1/3
  EXPECT_NEAR(matthews_correlation({0, 0, 1, 1, 1, 0}, {0, 1, 1, 1, 0, 0}, 2), 1.0 / 3.0, 1e-15);
  // tp 2, tn 0, fp 1, fn 1: (0 - 1) / sqrt(3*1*3*1) = -1/3
  EXPECT_NEAR(matthews_correlation({1, 0, 1, 1}, {1, 1, 1, 0}, 2), -1.0 / 3.0, 1e-15);
  // Three classes: c 2, s 4, p (2,1,1), t (1,2,1): (8 - 5) / sqrt((16-6)(16-6)) = 0.3
  EXPECT_NEAR(matthews_correlation({0, 1, 2, 0}, {0, 1, 1, 2}, 3), 0.3, 1e-15);
  EXPECT_DOUBLE_EQ(matthews_correlation({1, 1, 1}, {0, 1, 0}, 2), 0.0);  // constant prediction
  EXPECT_DOUBLE_EQ(matthews_correlation({0, 1, 0, 1}, {0, 1, 0, 1}, 2), 1.0);
}

TEST(TaskMetrics, PearsonAndSpearmanWithTies) {
  const std::vector<double> x{1, 2, 3, 4}, y{2, 4, 5, 4};
  // sxy 3.5, sxx 5, syy 4.75
  EXPECT_NEAR(pearson_correlation(x, y), 3.5 / std::sqrt(5 * 4.75), 1e-15);
  // ranks of y: 1, 2.5, 4, 2.5 -> sxy 3, sxx 5, syy 4.5
  EXPECT_NEAR(spearman_correlation(x, y), 3.0 / std::sqrt(5 * 4.5), 1e-15);
  EXPECT_NEAR(spearman_correlation({1, 2, 3}, {10, 20, 1000}), 1.0, 1e-15);  // monotone
  EXPECT_DOUBLE_EQ(pearson_correlation({1, 1, 1}, {1, 2, 3}), 0.0);
}

TEST(TaskMetrics, MetricObjectsNameWhatGlueReports) {
  const auto binary = classification_metrics({1, 0, 1, 1}, {1, 1, 1, 0}, 2, 1);
  EXPECT_DOUBLE_EQ(binary["accuracy"].get<double>(), 0.5);
  EXPECT_TRUE(binary.contains("f1"));
  EXPECT_TRUE(binary.contains("matthews_corr"));
  EXPECT_FALSE(classification_metrics({0, 1, 2}, {0, 1, 2}, 3, 1).contains("f1"));
  const auto regression = regression_metrics({1, 2, 3, 4}, {2, 4, 5, 4});
  EXPECT_NEAR(regression["pearson_spearman_mean"].get<double>(),
              (regression["pearson"].get<double>() + regression["spearman"].get<double>()) / 2,
              1e-15);
  EXPECT_THROW(accuracy({1}, {1, 0}), std::invalid_argument);
}

}  // namespace
}  // namespace electra::finetune
