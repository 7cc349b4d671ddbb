// The losses of the question-answering and token-tagging heads, in fp32, as HuggingFace's
// ElectraForQuestionAnswering and ElectraForTokenClassification compute them, with an optional
// global denominator for data parallelism (each rank's sum divided by the count over all ranks,
// so the averaged gradient is the gradient of the global mean).
#pragma once

#include <ATen/Tensor.h>

namespace electra::finetune {

// (cross-entropy of the start position + that of the end position) / 2: logits [B, L],
// positions [B] (long). A position outside [0, L) is clamped to L and ignored, as HF does. Each
// term is the mean over its rows not ignored, or their sum over `denominator` when given.
at::Tensor span_loss(const at::Tensor& start_logits, const at::Tensor& end_logits,
                     const at::Tensor& start_positions, const at::Tensor& end_positions,
                     const at::Tensor& denominator = {});

// Cross-entropy over the positions whose label is not -100 (kIgnoredLabel): logits [B, L, C],
// labels [B, L] (long); the mean over them, or their sum over `denominator` when given.
at::Tensor token_loss(const at::Tensor& logits, const at::Tensor& labels,
                      const at::Tensor& denominator = {});

}  // namespace electra::finetune
