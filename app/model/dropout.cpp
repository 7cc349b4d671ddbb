#include "app/model/dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <torch/autograd.h>

#include <algorithm>
#include <cmath>
#include <mutex>

namespace electra::model {

namespace {

// Chris Wellons' "lowbias32" integer hash: a bijection on 32 bits with low bias.
inline uint32_t mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

// The one hot loop, compiled for AVX-512, AVX2 and the baseline (chosen when loaded), and
// vectorised (-O3 for this file): 16 or 8 elements a step. Elements [0, count) have the counters
// first, first + 1, ... (32 bits: the caller splits at multiples of 2^32).
__attribute__((target_clones("avx512f", "avx2", "default"))) void mask_float(
    const float* __restrict in, float* __restrict out, uint32_t count, uint32_t first,
    uint32_t threshold, float scale, uint32_t seed_low, uint32_t high) {
  for (uint32_t j = 0; j < count; ++j) {
    const uint32_t hash = mix32(mix32(first + j + seed_low) ^ high);
    out[j] = hash >= threshold ? in[j] * scale : 0.0f;
  }
}

// Elements [begin, end), split where the counter's upper 32 bits change.
void mask_range(const float* in, float* out, int64_t begin, int64_t end, uint32_t threshold,
                float scale, uint64_t seed) {
  for (int64_t at = begin; at < end;) {
    const int64_t block_end = std::min(end, ((at >> 32) + 1) << 32);
    mask_float(in + at, out + at, uint32_t(block_end - at), uint32_t(at), threshold, scale,
               uint32_t(seed), uint32_t(seed >> 32) ^ uint32_t(uint64_t(at) >> 32));
    at = block_end;
  }
}

at::Tensor masked(const at::Tensor& x, double p, uint64_t seed) {
  TORCH_CHECK(x.device().is_cpu(), "apply_dropout_mask: a CPU tensor");
  const at::Tensor input = x.contiguous();
  if (p >= 1.0) return at::zeros_like(input);
  const uint32_t threshold = uint32_t(std::min(std::ldexp(p, 32), 4294967295.0));
  const float scale = float(1.0 / (1.0 - p));
  // Other dtypes (double; bf16 under CPU autocast): the float mask's values, multiplied.
  const bool is_float = input.scalar_type() == at::kFloat;
  const at::Tensor source =
      is_float ? input : at::ones(input.sizes(), input.options().dtype(at::kFloat));
  at::Tensor out = at::empty_like(source);
  const float* in = source.const_data_ptr<float>();
  float* result = out.mutable_data_ptr<float>();
  at::parallel_for(0, source.numel(), 1 << 15, [&](int64_t begin, int64_t end) {
    mask_range(in, result, begin, end, threshold, scale, seed);
  });
  return is_float ? out : input.mul(out.to(input.scalar_type()));
}

uint64_t draw_seed() {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return at::check_generator<at::CPUGeneratorImpl>(generator)->random64();
}

// The mask is the seed: backward computes it again.
struct HashDropout : torch::autograd::Function<HashDropout> {
  static at::Tensor forward(torch::autograd::AutogradContext* context, const at::Tensor& x,
                            double p, int64_t seed) {
    context->saved_data["p"] = p;
    context->saved_data["seed"] = seed;
    return masked(x, p, uint64_t(seed));
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* context,
                                               torch::autograd::tensor_list gradients) {
    const double p = context->saved_data["p"].toDouble();
    const auto seed = uint64_t(context->saved_data["seed"].toInt());
    return {masked(gradients[0], p, seed), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

uint32_t dropout_hash(uint64_t seed, uint64_t index) {
  const uint32_t high = uint32_t(seed >> 32) ^ uint32_t(index >> 32);
  return mix32(mix32(uint32_t(index) + uint32_t(seed)) ^ high);
}

at::Tensor apply_dropout_mask(const at::Tensor& x, double p, uint64_t seed) {
  return masked(x, p, seed);
}

at::Tensor dropout(const at::Tensor& x, double p, bool training) {
  if (!training || p <= 0.0) return x;
  if (!x.device().is_cpu()) return at::dropout(x, p, true);
  return HashDropout::apply(x, p, int64_t(draw_seed()));
}

}  // namespace electra::model
