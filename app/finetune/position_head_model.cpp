#include "app/finetune/position_head_model.h"

#include <stdexcept>

#include "app/model/sequence_classifier.h"

namespace electra::finetune {

PositionHeadModelImpl::PositionHeadModelImpl(const model::ModelConfig& config_, PositionTask task_,
                                             int64_t labels)
    : config(config_), task(task_), outputs(task_ == PositionTask::kSpan ? 2 : labels) {
  if (outputs < 1) throw std::invalid_argument("a tagging head needs at least one label");
  embeddings = register_module("embeddings", model::Embeddings(config));
  discriminator = register_module("discriminator", std::make_shared<model::EncoderStackImpl>(
                                                       config.discriminator, config, embeddings));
  dropout = register_module("dropout", torch::nn::Dropout(config.hidden_dropout_prob));
  head_out =
      register_module("head_out", torch::nn::Linear(config.discriminator.hidden_size, outputs));
  torch::NoGradGuard no_grad;
  head_out->weight.normal_(0.0, config.initializer_range);
  head_out->bias.zero_();
}

torch::Tensor PositionHeadModelImpl::forward(const torch::Tensor& input_ids,
                                             const torch::Tensor& token_type_ids,
                                             const torch::Tensor& attention_mask) {
  torch::Tensor hidden =
      discriminator->encode(input_ids, token_type_ids, attention_mask).last_hidden;  // [B, L, H]
  if (task == PositionTask::kToken) hidden = dropout(hidden);  // HF's QA head has none
  return head_out(hidden);                                     // [B, L, outputs]
}

void PositionHeadModelImpl::load_encoder_from(model::ElectraModelImpl& pair) {
  model::copy_pretrained_encoder(*this, config, pair);
}

int PositionHeadModelImpl::depth_of(const std::string& name) const {
  return model::fine_tuning_depth(config, name);
}

std::vector<std::pair<std::string, std::string>> hf_position_head(PositionTask task) {
  const std::string head = task == PositionTask::kSpan ? "qa_outputs" : "classifier";
  return {{head + ".weight", "head_out.weight"}, {head + ".bias", "head_out.bias"}};
}

void export_hf_position_model(PositionHeadModelImpl& model, const std::vector<std::string>& labels,
                              const std::string& vocab_path, const std::string& dir) {
  const bool span = model.task == PositionTask::kSpan;
  nlohmann::json fields =
      model::hf_label_fields(span ? std::vector<std::string>{"LABEL_0", "LABEL_1"} : labels);
  fields["architectures"] = {span ? "ElectraForQuestionAnswering"
                                  : "ElectraForTokenClassification"};
  model::export_hf_with_head(model, model.config, hf_position_head(model.task), fields, vocab_path,
                             dir);
}

}  // namespace electra::finetune
