#include "app/train/row_random.h"

#include <ATen/Context.h>
#include <ATen/Functions.h>

#include <stdexcept>
#include <string>

#include "data/shard_set_writer.h"

namespace electra::train {

at::Tensor RowRandom::uniform(Draw purpose, at::IntArrayRef shape,
                              const at::TensorOptions& options) const {
  if (row_keys_.empty()) return at::rand(shape, generator_, options);
  if (shape.empty() || shape[0] != int64_t(row_keys_.size())) {
    throw std::logic_error("RowRandom: " + std::to_string(row_keys_.size()) +
                           " row keys for a draw of " +
                           std::to_string(shape.empty() ? 0 : shape[0]) + " rows");
  }
  at::Tensor out = at::empty(shape, options);
  at::Generator row_generator = at::globalContext().defaultGenerator(out.device()).clone();
  for (size_t i = 0; i < row_keys_.size(); ++i) {
    row_generator.set_current_seed(data::mix_seed(row_keys_[i], uint64_t(purpose), 0x2A5D));
    out[int64_t(i)].uniform_(0, 1, row_generator);
  }
  return out;
}

}  // namespace electra::train
