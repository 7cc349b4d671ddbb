#include "app/finetune/task_family.h"

#include <ATen/Functions.h>
#include <torch/utils.h>

#include <algorithm>

namespace electra::finetune {

std::unique_ptr<TaskFamily> sentence_family(const data::WordPieceTokenizer& tokenizer);
std::unique_ptr<TaskFamily> span_family(const data::WordPieceTokenizer& tokenizer);
std::unique_ptr<TaskFamily> token_family(const data::WordPieceTokenizer& tokenizer);

std::unique_ptr<TaskFamily> task_family(const FinetunedModel& finetuned,
                                        const data::WordPieceTokenizer& tokenizer) {
  switch (finetuned.type) {
    case TaskType::kSpan:
      return span_family(tokenizer);
    case TaskType::kToken:
      return token_family(tokenizer);
    default:
      return sentence_family(tokenizer);
  }
}

std::pair<size_t, size_t> rank_share(size_t count, const dist::Communicator& communicator) {
  const auto rank = size_t(communicator.rank()), ranks = size_t(communicator.size());
  return {count * rank / ranks, count * (rank + 1) / ranks};
}

void predict_batches(FinetunedModel& finetuned, const TrainingRows& rows, long long batch_size,
                     const std::function<void(long long, const at::Tensor&)>& use) {
  torch::NoGradGuard no_grad;
  torch::nn::Module& module = finetuned.module();
  const bool was_training = module.is_training();
  module.eval();
  const c10::Device device = finetuned.device();
  const long long n = rows.count();
  for (long long first = 0; first < n; first += batch_size) {
    const long long count = std::min(batch_size, n - first);
    const at::Tensor mask = rows.input_mask.narrow(0, first, count);
    const int64_t length = std::max<int64_t>(1, mask.sum(1).max().item<int64_t>());
    const auto take = [&](const at::Tensor& t) {
      return t.narrow(0, first, count).narrow(1, 0, length).to(device);
    };
    const at::Tensor logits =
        finetuned.forward(take(rows.input_ids), take(rows.segment_ids), take(rows.input_mask))
            .to(at::kFloat)
            .to(at::kCPU);
    use(first, logits);
  }
  if (was_training) module.train();
}

at::Tensor padded_rows(const std::vector<const std::vector<int32_t>*>& rows, int64_t pad) {
  size_t length = 1;
  for (const auto* row : rows) length = std::max(length, row->size());
  at::Tensor out = at::full({int64_t(rows.size()), int64_t(length)}, pad, at::kLong);
  auto a = out.accessor<int64_t, 2>();
  for (size_t i = 0; i < rows.size(); ++i) {
    for (size_t j = 0; j < rows[i]->size(); ++j) a[int64_t(i)][int64_t(j)] = (*rows[i])[j];
  }
  return out;
}

TrainingRows padded_inputs(const std::vector<const std::vector<int32_t>*>& ids,
                           const std::vector<const std::vector<int32_t>*>& segments) {
  const at::Tensor input_ids = padded_rows(ids, 0);
  std::vector<int64_t> lengths;
  for (const auto* row : ids) lengths.push_back(int64_t(row->size()));
  const at::Tensor mask = (at::arange(input_ids.size(1), at::kLong).unsqueeze(0) <
                           at::tensor(lengths, at::kLong).unsqueeze(1))
                              .to(at::kLong);
  return {
      input_ids, segments.empty() ? at::zeros_like(input_ids) : padded_rows(segments, 0), mask, {}};
}

}  // namespace electra::finetune
