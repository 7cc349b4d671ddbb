#include "app/train/step_flops.h"

namespace electra::train {

namespace {

// Matmul FLOPs of one encoder layer's forward per token at sequence length L.
double layer_flops(const model::EncoderConfig& e, int64_t length) {
  const double h = double(e.hidden_size), i = double(e.intermediate_size);
  return 2.0 * (4 * h * h + 2 * h * i) + 2.0 * 2.0 * double(length) * h;
}

}  // namespace

double joint_step_flops(const model::ModelConfig& c, int64_t batch, int64_t length,
                        int64_t predictions) {
  const double e = double(c.embedding_size), v = double(c.vocab_size);
  double per_token = 0;
  for (const model::EncoderConfig* net : {&c.discriminator, &c.generator}) {
    per_token += double(net->num_hidden_layers) * layer_flops(*net, length);
    if (net->hidden_size != c.embedding_size) per_token += 2.0 * e * double(net->hidden_size);
  }
  const double hd = double(c.discriminator.hidden_size);
  per_token += 2.0 * (hd * hd + hd);  // discriminator head
  const double per_prediction = 2.0 * (double(c.generator.hidden_size) * e + e * v);
  return 3.0 * (per_token * double(batch * length) + per_prediction * double(batch * predictions));
}

}  // namespace electra::train
