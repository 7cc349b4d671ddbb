// A host tensor to the device without making the host wait: copied from pinned memory, the copy
// is queued behind the device's work (from pageable memory LibTorch waits for the queue to
// drain). The pinned block stays alive until the copy has run (LibTorch's host allocator).
#pragma once

#include <ATen/core/Tensor.h>

namespace electra::train {

inline at::Tensor to_device_async(const at::Tensor& host, const at::Device& device) {
  return device.is_cpu() ? host : host.pin_memory().to(device, /*non_blocking=*/true);
}

}  // namespace electra::train
