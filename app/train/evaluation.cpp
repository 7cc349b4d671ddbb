#include "app/train/evaluation.h"

#include "app/train/losses.h"

#include <ATen/Functions.h>
#include <ATen/core/grad_mode.h>

namespace electra::train {

nlohmann::json EvalMetrics::to_json() const {
  return {{"mlm_loss", mlm_loss},
          {"mlm_accuracy", mlm_accuracy},
          {"disc_loss", disc_loss},
          {"disc_accuracy", disc_accuracy},
          {"disc_precision", disc_precision},
          {"disc_recall", disc_recall},
          {"disc_auc", disc_auc},
          {"replaced_fraction", replaced_fraction},
          {"examples", examples},
          {"tokens", tokens}};
}

void EvalTotals::add(const StepOutput& out, const at::Tensor& input_mask) {
  at::NoGradGuard no_grad;
  const at::Tensor weights = out.masked.weights;  // [B, P]
  const at::Tensor mlm_hit = out.generator_logits.argmax(-1).eq(out.masked.targets);
  const at::Tensor real = input_mask.to(at::kFloat);  // [B, L]
  const at::Tensor replaced = out.corrupted.replaced;
  const at::Tensor logits = out.disc_logits.detach().to(at::kFloat);
  const at::Tensor predicted = logits.gt(0).to(at::kFloat);
  const at::Tensor one = at::scalar_tensor(1.0, real.options());  // the losses' sums
  const at::Tensor sums = at::stack({
      at::scalar_tensor(double(input_mask.size(0)), real.options()),
      weights.sum(),
      // the training losses' sums (denominator 1)
      mlm_loss(out.generator_logits, out.masked.targets, weights, one),
      (mlm_hit.to(at::kFloat) * weights).sum(),
      real.sum(),
      discriminator_loss(logits, replaced, input_mask, one),
      (predicted.eq(replaced).to(at::kFloat) * real).sum(),
      (predicted * replaced * real).sum(),
      (predicted * real).sum(),
      (replaced * real).sum(),
  });
  const at::Tensor bins =
      (at::sigmoid(logits) * kBins).to(at::kLong).clamp(0, kBins - 1).flatten();  // [B * L]
  const at::Tensor real_flat = real.flatten();
  const at::Tensor replaced_histogram =
      at::zeros({kBins}, real.options()).index_add(0, bins, real_flat * replaced.flatten());
  const at::Tensor original_histogram =
      at::zeros({kBins}, real.options()).index_add(0, bins, real_flat * (1 - replaced.flatten()));
  // Added up where the batch was computed; the host reads the totals once, in reduce().
  const at::Tensor batch_totals =
      at::cat({sums, replaced_histogram, original_histogram}).to(at::kDouble);
  if (device_totals_.defined()) {
    device_totals_.add_(batch_totals);
  } else {
    device_totals_ = batch_totals;
  }
}

void EvalTotals::reduce(dist::Communicator& communicator) {
  if (device_totals_.defined()) {
    const at::Tensor host = device_totals_.cpu();  // the evaluation's one wait for the device
    const double* values = host.data_ptr<double>();
    for (size_t i = 0; i < totals_.size(); ++i) totals_[i] += values[i];
    device_totals_ = at::Tensor();
  }
  communicator.all_reduce_sum(totals_.data(), totals_.size());
}

double EvalTotals::auc(const double* positives, const double* negatives, int bins) {
  // Sweep the bins from the lowest score up: each positive beats every negative in a lower bin
  // and ties half of those in its own bin.
  double total_positive = 0, area = 0, negatives_below = 0;
  for (int b = 0; b < bins; ++b) {
    area += positives[b] * (negatives_below + 0.5 * negatives[b]);
    negatives_below += negatives[b];
    total_positive += positives[b];
  }
  if (total_positive == 0 || negatives_below == 0) return 0.5;  // undefined: report chance
  return area / (total_positive * negatives_below);
}

EvalMetrics EvalTotals::metrics() const {
  const auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  const double* t = totals_.data();
  EvalMetrics m;
  m.examples = t[kExamples];
  m.tokens = t[kTokens];
  m.mlm_loss = ratio(t[kMlmLossSum], t[kMaskedPositions]);
  m.mlm_accuracy = ratio(t[kMlmCorrect], t[kMaskedPositions]);
  m.disc_loss = ratio(t[kDiscLossSum], t[kTokens]);
  m.disc_accuracy = ratio(t[kDiscCorrect], t[kTokens]);
  m.disc_precision = ratio(t[kTruePositive], t[kPredictedPositive]);
  m.disc_recall = ratio(t[kTruePositive], t[kReplaced]);
  m.replaced_fraction = ratio(t[kReplaced], t[kTokens]);
  m.disc_auc = auc(t + kSums, t + kSums + kBins, kBins);
  return m;
}

}  // namespace electra::train
