#include "app/train/step_flops.h"

namespace electra::train {

namespace {

// Matmul FLOPs of one encoder layer's forward per token at sequence length L.
double layer_flops(const model::EncoderConfig& e, int64_t length) {
  const double h = double(e.hidden_size), i = double(e.intermediate_size);
  return 2.0 * (4 * h * h + 2 * h * i) + 2.0 * 2.0 * double(length) * h;
}

// One network's encoder (and embedding projection) forward per token.
double stack_flops(const model::ModelConfig& c, const model::EncoderConfig& net, int64_t length) {
  double flops = double(net.num_hidden_layers) * layer_flops(net, length);
  if (net.hidden_size != c.embedding_size) {
    flops += 2.0 * double(c.embedding_size) * double(net.hidden_size);
  }
  return flops;
}

}  // namespace

double step_flops(const model::ModelConfig& c, int64_t batch, int64_t length, int64_t predictions,
                  Objective objective) {
  const double e = double(c.embedding_size), v = double(c.vocab_size);
  const double tokens = double(batch * length);
  const double hd = double(c.discriminator.hidden_size);
  const double discriminator =
      tokens * (stack_flops(c, c.discriminator, length) + 2.0 * (hd * hd + hd));
  const double generator =
      tokens * stack_flops(c, c.generator, length) +
      double(batch * predictions) * 2.0 * (double(c.generator.hidden_size) * e + e * v);
  switch (objective) {
    case Objective::kGeneratorOnly:
      return 3.0 * generator;
    case Objective::kDiscriminatorOnly:
      return generator + 3.0 * discriminator;
    default:
      return 3.0 * (generator + discriminator);
  }
}

}  // namespace electra::train
