#include "app/train/row_random.h"

#include <ATen/Functions.h>

#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <tuple>

#include "app/train/host_to_device.h"

namespace electra::train {

namespace {

constexpr uint64_t kGolden = data::kSplitMixGolden;
constexpr uint64_t kMix1 = data::kSplitMixMul1, kMix2 = data::kSplitMixMul2;

int64_t as_signed(uint64_t value) {
  return static_cast<int64_t>(value);  // two's complement: the same bits
}

// z ^ (z >>> shift) on int64 tensors: the arithmetic shift, with the sign bits cleared.
at::Tensor xor_shift(const at::Tensor& z, int shift) {
  return z.bitwise_xor(at::__rshift__(z, shift).bitwise_and(as_signed((~0ull) >> shift)));
}

// (counter * golden) for the counters of one step's draws, [1, L + 2P] int64 on `device`: built
// once per shape and device (the multiplication wraps, as on the host).
at::Tensor step_offsets(int64_t length, int64_t predictions, at::Device device) {
  static std::mutex mutex;
  static std::map<std::tuple<int64_t, int64_t, std::string>, at::Tensor> cache;
  std::lock_guard<std::mutex> lock(mutex);
  at::Tensor& cached = cache[{length, predictions, device.str()}];
  if (!cached.defined()) {
    std::vector<int64_t> offsets;
    const auto add = [&](Draw draw, int64_t count) {
      for (int64_t j = 0; j < count; ++j)
        offsets.push_back(as_signed(draw_counter(draw, j) * kGolden));
    };
    add(Draw::kMaskPositions, length);
    add(Draw::kKeepOriginal, predictions);
    add(Draw::kSample, predictions);
    cached = to_device_async(at::tensor(offsets, at::kLong).unsqueeze(0), device);
  }
  return cached;
}

// SplitMix64's output function on int64 tensors.
at::Tensor splitmix_mix(at::Tensor z) {
  z = xor_shift(z, 30).mul(as_signed(kMix1));
  z = xor_shift(z, 27).mul(as_signed(kMix2));
  return xor_shift(z, 31);
}

// The top 23 bits k as the float (k + 1/2) / 2^23, in (0, 1) and exact in fp32: never 0, so an
// inverse-CDF draw never lands on a token of probability 0.
at::Tensor to_uniform(const at::Tensor& z) {
  constexpr double kScale = 1.0 / double(1 << 23);
  return at::__rshift__(z, 41).bitwise_and(0x7FFFFF).mul(kScale).add_(0.5 * kScale);
}

}  // namespace

RowRandom::RowRandom(const std::vector<uint64_t>& row_keys, at::Device device) {
  std::vector<int64_t> keys(row_keys.size());
  for (size_t i = 0; i < keys.size(); ++i) keys[i] = as_signed(row_keys[i]);
  row_keys_ = to_device_async(at::tensor(keys, at::kLong), device);
}

at::Tensor RowRandom::hash(const at::Tensor& counters) const {
  if (!keyed()) throw std::logic_error("RowRandom::hash needs row keys");
  return splitmix_mix(row_keys_.unsqueeze(1) + counters.mul(as_signed(kGolden)).unsqueeze(0));
}

StepDraws RowRandom::step_draws(int64_t rows, int64_t length, int64_t predictions,
                                at::Device device) const {
  if (!keyed()) {
    const auto longs = at::TensorOptions().dtype(at::kLong).device(device);
    const auto floats = at::TensorOptions().dtype(at::kFloat).device(device);
    return {at::randint(std::numeric_limits<int64_t>::max(), {rows, length}, generator_, longs),
            at::rand({rows, predictions}, generator_, floats),
            at::rand({rows, predictions}, generator_, floats)};
  }
  if (row_keys_.size(0) != rows) {
    throw std::logic_error("RowRandom: " + std::to_string(row_keys_.size(0)) +
                           " row keys for a batch of " + std::to_string(rows) + " rows");
  }
  // One hash over [B, L + 2P]: the position scores raw, the other two as uniforms.
  const at::Tensor keys = row_keys_.device() == device ? row_keys_ : row_keys_.to(device);
  const at::Tensor z = splitmix_mix(keys.unsqueeze(1) + step_offsets(length, predictions, device));
  const auto parts = z.split_with_sizes({length, 2 * predictions}, 1);
  const auto uniforms = to_uniform(parts[1]).split_with_sizes({predictions, predictions}, 1);
  return {parts[0], uniforms[0], uniforms[1]};
}

}  // namespace electra::train
