// Parameters in flat storage (DESIGN.md section 8). Every parameter of a module once (a shared
// one once, under the first name it is listed by), in reverse registration order (about the
// order in which backward finishes their gradients), lives in one contiguous buffer per device
// and dtype: the parameter's data is a view into it, and its gradient a view into a gradient
// buffer of the same layout. The optimiser updates a whole buffer in a few operator calls,
// clipping takes the norm of the gradient buffer, and the gradient reducer's buckets are ranges
// of it. A module has one FlatParameters, shared by whoever asks for it (of()).
//
// What replaces a parameter's data (loading a checkpoint, Module::to) is noticed by bind(), which
// copies the value back into the buffer and points the parameter at its view again; the buffers
// stay on the device they were made on.
#pragma once

#include <torch/nn/module.h>

#include <memory>
#include <string>
#include <vector>

namespace electra::train {

class FlatParameters {
 public:
  struct Segment {
    std::string name;
    at::Tensor parameter;
    int64_t offset = 0, numel = 0;  // in the group's buffers
  };
  struct Group {
    at::Tensor values;     // [elements] the parameters' data
    at::Tensor gradients;  // [elements] their gradients
    std::vector<Segment> segments;
    at::Tensor view(const at::Tensor& buffer, const Segment& segment) const {
      return buffer.narrow(0, segment.offset, segment.numel).view(segment.parameter.sizes());
    }
  };

  // The module's flat storage, made on first use (moving its parameters into the buffers).
  static std::shared_ptr<FlatParameters> of(torch::nn::Module& module);
  explicit FlatParameters(torch::nn::Module& module);

  std::vector<Group>& groups() { return groups_; }
  const std::vector<Group>& groups() const { return groups_; }
  size_t parameter_count() const;

  // Points every parameter and gradient that no longer views its buffer back at it, copying its
  // value in. A pointer comparison per parameter when nothing moved.
  void bind();
  void zero_gradients();

 private:
  std::vector<Group> groups_;  // [device and dtype]
};

}  // namespace electra::train
