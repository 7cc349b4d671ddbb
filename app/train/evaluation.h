// Evaluation metrics of the joint model on held-out data (issue: generator MLM loss and accuracy;
// discriminator loss, accuracy, precision, recall and AUC; fraction of tokens replaced). Each
// rank adds its batches to sums and counts, and a histogram of the discriminator's probabilities
// for replaced and for original tokens; reduce() sums them over ranks, so the metrics do not
// depend on how the data was split. AUC comes from the histograms (ties within a bin count half).
#pragma once

#include <array>
#include <nlohmann/json.hpp>

#include "app/train/electra_step.h"
#include "dist/communicator.h"

namespace electra::train {

struct EvalMetrics {
  double mlm_loss = 0, mlm_accuracy = 0;
  double disc_loss = 0, disc_accuracy = 0, disc_precision = 0, disc_recall = 0, disc_auc = 0;
  double replaced_fraction = 0;
  double examples = 0, tokens = 0;
  nlohmann::json to_json() const;  // the fields above by these names
};

class EvalTotals {
 public:
  static constexpr int kBins = 10000;  // of the probability that a token was replaced

  // Adds one batch: `out` from electra_forward on it, `input_mask` [B, L] its real tokens.
  void add(const StepOutput& out, const at::Tensor& input_mask);
  // Reads what add() summed on the device (the one host synchronisation of an evaluation) and
  // sums over every rank (in place; every rank calls it).
  void reduce(dist::Communicator& communicator);
  EvalMetrics metrics() const;

  // Area under the ROC curve from counts of positives and negatives per score bin.
  static double auc(const double* positives, const double* negatives, int bins);

 private:
  enum Sum {
    kExamples,
    kMaskedPositions,
    kMlmLossSum,
    kMlmCorrect,
    kTokens,
    kDiscLossSum,
    kDiscCorrect,
    kTruePositive,
    kPredictedPositive,
    kReplaced,
    kSums
  };
  // [sums | replaced histogram | original histogram], one buffer for one all-reduce
  std::array<double, kSums + 2 * kBins> totals_{};
  at::Tensor device_totals_;  // the same, added up on the batches' device until reduce()
};

}  // namespace electra::train
