#include "app/finetune/task_metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace electra::finetune {

namespace {

void check_sizes(size_t a, size_t b) {
  if (a != b) {
    throw std::invalid_argument("metrics: " + std::to_string(a) + " predictions for " +
                                std::to_string(b) + " labels");
  }
}

// Mean ranks (1-based), ties sharing their mean.
std::vector<double> ranks(const std::vector<double>& values) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return values[a] < values[b]; });
  std::vector<double> result(values.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && values[order[j + 1]] == values[order[i]]) ++j;
    const double mean_rank = (double(i) + double(j)) / 2 + 1;
    for (size_t k = i; k <= j; ++k) result[order[k]] = mean_rank;
    i = j + 1;
  }
  return result;
}

}  // namespace

double accuracy(const std::vector<int>& predicted, const std::vector<int>& gold) {
  check_sizes(predicted.size(), gold.size());
  if (gold.empty()) return 0;
  size_t equal = 0;
  for (size_t i = 0; i < gold.size(); ++i) equal += predicted[i] == gold[i];
  return double(equal) / double(gold.size());
}

double f1_score(const std::vector<int>& predicted, const std::vector<int>& gold, int positive) {
  check_sizes(predicted.size(), gold.size());
  double tp = 0, fp = 0, fn = 0;
  for (size_t i = 0; i < gold.size(); ++i) {
    tp += predicted[i] == positive && gold[i] == positive;
    fp += predicted[i] == positive && gold[i] != positive;
    fn += predicted[i] != positive && gold[i] == positive;
  }
  return tp == 0 ? 0.0 : 2 * tp / (2 * tp + fp + fn);
}

double matthews_correlation(const std::vector<int>& predicted, const std::vector<int>& gold,
                            int classes) {
  check_sizes(predicted.size(), gold.size());
  // R_K = (c s - sum_k p_k t_k) / sqrt((s^2 - sum p_k^2)(s^2 - sum t_k^2)), c correct, s samples,
  // p_k predicted as k, t_k truly k.
  std::vector<double> p(size_t(classes), 0), t(size_t(classes), 0);
  double correct = 0;
  for (size_t i = 0; i < gold.size(); ++i) {
    if (predicted[i] < 0 || predicted[i] >= classes || gold[i] < 0 || gold[i] >= classes) {
      throw std::invalid_argument("metrics: a label outside 0.." + std::to_string(classes - 1));
    }
    p[size_t(predicted[i])] += 1, t[size_t(gold[i])] += 1;
    correct += predicted[i] == gold[i];
  }
  const double s = double(gold.size());
  double pt = 0, pp = 0, tt = 0;
  for (size_t k = 0; k < p.size(); ++k) pt += p[k] * t[k], pp += p[k] * p[k], tt += t[k] * t[k];
  const double denominator = std::sqrt((s * s - pp) * (s * s - tt));
  return denominator == 0 ? 0.0 : (correct * s - pt) / denominator;
}

double pearson_correlation(const std::vector<double>& x, const std::vector<double>& y) {
  check_sizes(x.size(), y.size());
  if (x.empty()) return 0;
  const double n = double(x.size());
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxx == 0 || syy == 0 ? 0.0 : sxy / std::sqrt(sxx * syy);
}

double spearman_correlation(const std::vector<double>& x, const std::vector<double>& y) {
  check_sizes(x.size(), y.size());
  return pearson_correlation(ranks(x), ranks(y));
}

nlohmann::json classification_metrics(const std::vector<int>& predicted,
                                      const std::vector<int>& gold, int classes, int positive) {
  nlohmann::json metrics = {{"accuracy", accuracy(predicted, gold)},
                            {"matthews_corr", matthews_correlation(predicted, gold, classes)},
                            {"examples", gold.size()}};
  if (classes == 2) {
    metrics["f1"] = f1_score(predicted, gold, positive);
    // GLUE's MRPC and QQP figure: the mean of F1 and accuracy.
    metrics["f1_accuracy_mean"] =
        (metrics["f1"].get<double>() + metrics["accuracy"].get<double>()) / 2;
  }
  return metrics;
}

nlohmann::json regression_metrics(const std::vector<double>& predicted,
                                  const std::vector<double>& gold) {
  const double pearson = pearson_correlation(predicted, gold);
  const double spearman = spearman_correlation(predicted, gold);
  return {{"pearson", pearson},
          {"spearman", spearman},
          {"pearson_spearman_mean", (pearson + spearman) / 2},
          {"examples", gold.size()}};
}

}  // namespace electra::finetune
