// The metrics GLUE reports for a fine-tuned classifier or regressor: accuracy, F1 of the
// positive class, Matthews correlation (CoLA), Pearson and Spearman correlation (STS-B).
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

namespace electra::finetune {

// Fraction of equal entries.
double accuracy(const std::vector<int>& predicted, const std::vector<int>& gold);
// F1 of class `positive` (GLUE: label 1 of MRPC and QQP); 0 when it is never predicted nor gold.
double f1_score(const std::vector<int>& predicted, const std::vector<int>& gold, int positive);
// Matthews correlation over any number of classes (Gorodkin's R_K; for two classes the usual
// (TP TN - FP FN) / sqrt(...)); 0 when a marginal is constant.
double matthews_correlation(const std::vector<int>& predicted, const std::vector<int>& gold,
                            int classes);
// Pearson's r; 0 when either side is constant.
double pearson_correlation(const std::vector<double>& x, const std::vector<double>& y);
// Spearman's rho: Pearson's r of the ranks, ties sharing their mean rank.
double spearman_correlation(const std::vector<double>& x, const std::vector<double>& y);

// Every metric that applies: classification -> accuracy and matthews_corr, plus f1 (of class
// `positive`) and f1_accuracy_mean (GLUE's MRPC/QQP score) when there are two classes; regression
// -> pearson, spearman and their mean (GLUE's STS-B score).
nlohmann::json classification_metrics(const std::vector<int>& predicted,
                                      const std::vector<int>& gold, int classes, int positive);
nlohmann::json regression_metrics(const std::vector<double>& predicted,
                                  const std::vector<double>& gold);

}  // namespace electra::finetune
