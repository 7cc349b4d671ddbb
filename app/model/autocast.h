// bf16 autocast, and the regions that must stay fp32 inside it.
#pragma once

#include <ATen/autocast_mode.h>
#include <ATen/core/Tensor.h>
#include <c10/core/DeviceType.h>
#include <c10/core/impl/LocalDispatchKeySet.h>

namespace electra::model {

// While alive, operators on `device_type` (CPU or CUDA) autocast to bf16: matmuls and linear
// layers in bf16, reductions and losses in fp32. Restores what was set before.
class Bf16Autocast {
 public:
  Bf16Autocast(c10::DeviceType device_type, bool enabled)
      : device_type_(device_type), enabled_(enabled) {
    if (!enabled_) return;
    was_enabled_ = is_enabled();
    set(true);
  }
  ~Bf16Autocast() {
    if (!enabled_) return;
    set(was_enabled_);
    if (!was_enabled_) at::autocast::clear_cache();
  }
  Bf16Autocast(const Bf16Autocast&) = delete;
  Bf16Autocast& operator=(const Bf16Autocast&) = delete;

 private:
  bool is_enabled() const { return at::autocast::is_autocast_enabled(device_type_); }
  void set(bool on) const {
    at::autocast::set_autocast_dtype(device_type_, at::kBFloat16);
    at::autocast::set_autocast_enabled(device_type_, on);
  }

  c10::DeviceType device_type_;
  bool enabled_, was_enabled_ = false;
};

// The step's autocast: bf16 on CUDA, none on the CPU.
class CudaBf16Autocast : public Bf16Autocast {
 public:
  explicit CudaBf16Autocast(bool enabled) : Bf16Autocast(c10::DeviceType::CUDA, enabled) {}
};

// While alive, no operator autocasts (on any device): what runs here computes in the dtype of
// its inputs — fp32 for the generator's vocabulary projection, the sampling and the losses.
class Fp32Region {
 public:
  Fp32Region() = default;
  Fp32Region(const Fp32Region&) = delete;
  Fp32Region& operator=(const Fp32Region&) = delete;

 private:
  c10::impl::ExcludeDispatchKeyGuard no_autocast_{c10::autocast_dispatch_keyset};
};

// The dtype operators on x's device compute in: the autocast dtype while autocast is on there
// (and not excluded by an Fp32Region), else x's own.
inline at::ScalarType compute_dtype(const at::Tensor& x) {
  const c10::DeviceType device = x.device().type();
  if (at::autocast::is_autocast_enabled(device)) return at::autocast::get_autocast_dtype(device);
  return x.scalar_type();
}

}  // namespace electra::model
