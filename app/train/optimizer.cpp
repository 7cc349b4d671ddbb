#include "app/train/optimizer.h"

#include <ATen/Functions.h>
#include <ATen/ops/_fused_adamw.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <stdexcept>

#include "app/model/encoder.h"

namespace electra::train {

namespace {

// One value per segment, repeated over the segment's elements: [elements] on `device`.
at::Tensor per_element(const std::vector<double>& per_segment, const at::Tensor& lengths,
                       int64_t elements, at::ScalarType dtype) {
  const at::Tensor values = at::tensor(per_segment, at::kDouble).to(dtype).to(lengths.device());
  return at::repeat_interleave(values, lengths, /*dim=*/0, /*output_size=*/elements);
}

}  // namespace

bool excluded_from_weight_decay(const std::string& name) {
  const auto ends_with = [&](const std::string& suffix) {
    return name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return ends_with("bias") || name.find("norm") != std::string::npos;
}

// AdamW (not LAMB) runs in LibTorch's fused kernel: one pass over the parameters instead of a
// dozen operator calls, each a pass. It takes lists of tensors with one weight decay and one
// learning rate each: the flat buffers' runs of consecutive trainable segments of one
// (decay, lr scale), as 1-D views. A masked step is its found_inf (the kernel skips the step on
// the device). The reference applies no bias correction; the kernel always divides by
// 1 - beta^step, which a step count of 1e9 makes exactly 1 (beta^1e9 underflows to 0).
struct AdamW::FusedRun {
  size_t group = 0;  // of the flat storage: one device and dtype
  double weight_decay = 0, lr_scale = 1;
  std::vector<at::Tensor> p, g, m, v, steps;
};

namespace {
constexpr double kStepWithoutCorrection = 1e9;
}  // namespace

struct AdamW::GroupState {
  at::Tensor m, v;       // [elements]
  at::Tensor decay;      // [elements] the weight decay, 0 where none; undefined: none at all
  at::Tensor lr_scale;   // [elements]; undefined: 1 everywhere
  at::Tensor trainable;  // [elements] bool; undefined: every parameter trains
  at::Tensor lengths;    // [segments] long: the segments' sizes
  int64_t elements = 0;
};

AdamW::AdamW(torch::nn::Module& module, AdamWOptions options)
    : options_(options), flat_(FlatParameters::of(module)) {
  flat_->bind();
  for (const auto& group : flat_->groups()) {
    GroupState state;
    state.elements = group.values.numel();
    state.m = at::zeros_like(group.values);
    state.v = at::zeros_like(group.values);
    std::vector<int64_t> lengths;
    std::vector<double> decay;
    for (const auto& segment : group.segments) {
      lengths.push_back(segment.numel);
      const bool decays = !excluded_from_weight_decay(segment.name);
      decay.push_back(decays ? options_.weight_decay : 0.0);
      slots_.push_back({segment.name, segment.parameter, group.view(state.m, segment),
                        group.view(state.v, segment), decays});
      trainable_.push_back(segment.parameter.requires_grad());
    }
    state.lengths = at::tensor(lengths, at::kLong).to(group.values.device());
    if (options_.weight_decay != 0) {
      state.decay = per_element(decay, state.lengths, state.elements, group.values.scalar_type());
    }
    groups_.push_back(std::move(state));
  }
  trainable_.assign(trainable_.size(), true);  // the masks below start as "all trainable"
  update_trainable_masks();
  const auto device =
      flat_->groups().empty() ? at::Device(at::kCPU) : flat_->groups().front().values.device();
  steps_ = at::zeros({}, at::TensorOptions().dtype(at::kDouble).device(device));
  fused_step_ = at::full({}, options_.bias_correction ? 0.0 : kStepWithoutCorrection,
                         at::TensorOptions().dtype(at::kFloat).device(device));
  build_fused_runs();
}

void AdamW::build_fused_runs() {
  fused_.clear();
  if (options_.lamb) return;
  size_t slot = 0;
  for (size_t g = 0; g < groups_.size(); ++g) {
    const FlatParameters::Group& group = flat_->groups()[g];
    const GroupState& state = groups_[g];
    // [first, end) elements of the run being extended, and its key
    int64_t first = 0, end = 0;
    double decay = 0, scale = 1;
    const auto close = [&] {
      if (end == first) return;
      auto run = std::find_if(fused_.begin(), fused_.end(), [&](const FusedRun& r) {
        return r.group == g && r.weight_decay == decay && r.lr_scale == scale;
      });
      if (run == fused_.end())
        run = fused_.insert(fused_.end(), FusedRun{g, decay, scale, {}, {}, {}, {}, {}});
      run->p.push_back(group.values.narrow(0, first, end - first));
      run->g.push_back(group.gradients.narrow(0, first, end - first));
      run->m.push_back(state.m.narrow(0, first, end - first));
      run->v.push_back(state.v.narrow(0, first, end - first));
      run->steps.push_back(fused_step_);
      first = end;
    };
    for (const auto& segment : group.segments) {
      const Slot& s = slots_[slot];
      const bool trains = trainable_[slot++];
      const double segment_decay = s.decay ? options_.weight_decay : 0.0;
      if (!trains || segment.offset != end || segment_decay != decay || s.lr_scale != scale) {
        close();
        first = end = segment.offset;
        decay = segment_decay, scale = s.lr_scale;
      }
      if (!trains) {
        first = end = segment.offset + segment.numel;  // frozen: left out, as `where` leaves it
        continue;
      }
      end = segment.offset + segment.numel;
    }
    close();
  }
}

AdamW::~AdamW() = default;

void AdamW::update_trainable_masks() {
  size_t slot = 0;
  bool changed = false;
  for (auto& group : flat_->groups()) {
    for (const auto& segment : group.segments) {
      changed |= trainable_[slot] != segment.parameter.requires_grad();
      trainable_[slot++] = segment.parameter.requires_grad();
    }
  }
  if (!changed) return;
  slot = 0;
  for (size_t g = 0; g < groups_.size(); ++g) {
    std::vector<double> flags;
    bool all = true;
    for (size_t s = 0; s < flat_->groups()[g].segments.size(); ++s, ++slot) {
      flags.push_back(trainable_[slot] ? 1 : 0);
      all &= trainable_[slot];
    }
    GroupState& state = groups_[g];
    state.trainable =
        all ? at::Tensor() : per_element(flags, state.lengths, state.elements, at::kFloat).gt(0);
  }
  if (!fused_step_.defined()) return;  // constructing: the runs are built after
  build_fused_runs();
}

void AdamW::step(double lr, const at::Tensor& apply) {
  update(Rate{lr, at::Tensor()}, apply);
}

void AdamW::step(const at::Tensor& lr, const at::Tensor& apply) {
  update(Rate{0, lr}, apply);
}

void AdamW::update(const Rate& rate, const at::Tensor& given_apply) {
  torch::NoGradGuard no_grad;
  const at::Tensor apply = !given_apply.defined() || given_apply.scalar_type() == at::kBool
                               ? given_apply
                               : given_apply.ne(0);
  flat_->bind();
  update_trainable_masks();
  const double b1 = options_.beta1, b2 = options_.beta2;
  if (apply.defined()) {
    steps_.add_(apply);  // a bool: 1 where applied
  } else {
    steps_.add_(1);
  }
  if (!options_.lamb) return fused_update(rate, apply);
  at::Tensor correction1, correction2;  // 1 - beta^t for the step count t (on the device)
  if (options_.bias_correction) {
    correction1 = at::pow(b1, steps_).neg_().add_(1).to(at::kFloat);
    correction2 = at::pow(b2, steps_).neg_().add_(1).to(at::kFloat);
  }
  for (size_t g = 0; g < groups_.size(); ++g) {
    GroupState& state = groups_[g];
    at::Tensor& p = flat_->groups()[g].values;
    const at::Tensor& grad = flat_->groups()[g].gradients;
    // Where the update lands: [elements] or a scalar bool; undefined: everywhere.
    at::Tensor where;
    if (apply.defined() && state.trainable.defined()) {
      where = state.trainable & apply;
    } else {
      where = apply.defined() ? apply : state.trainable;
    }
    // The reference's arithmetic, step by step: m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2,
    // update = m / (sqrt(v) + eps) (+ weight decay * w).
    at::Tensor m, v;
    if (where.defined()) {
      m = (state.m * b1).add_(grad, 1 - b1);
      v = (state.v * b2).addcmul_(grad, grad, 1 - b2);
      at::where_out(state.m, where, m, state.m);
      at::where_out(state.v, where, v, state.v);
    } else {
      m = state.m.mul_(b1).add_(grad, 1 - b1);
      v = state.v.mul_(b2).addcmul_(grad, grad, 1 - b2);
    }
    at::Tensor update = correction1.defined()
                            ? (m / correction1) / (v / correction2).sqrt_().add_(options_.eps)
                            : m / v.sqrt().add_(options_.eps);
    if (state.decay.defined()) update.addcmul_(p, state.decay);
    if (options_.lamb) update.mul_(trust_ratios(state, p, update));
    if (state.lr_scale.defined()) update.mul_(state.lr_scale);
    if (where.defined()) {
      const at::Tensor descended = rate.tensor.defined() ? at::addcmul(p, update, rate.tensor, -1)
                                                         : at::add(p, update, -rate.value);
      at::where_out(p, where, descended, p);
    } else if (rate.tensor.defined()) {
      p.addcmul_(update, rate.tensor, -1);
    } else {
      p.add_(update, -rate.value);
    }
  }
}

void AdamW::fused_update(const Rate& rate, const at::Tensor& apply) {
  if (options_.bias_correction) fused_step_.copy_(steps_);  // after this step's count
  const std::optional<at::Tensor> skip =
      apply.defined() ? std::optional<at::Tensor>(apply.logical_not().to(device(), at::kFloat))
                      : std::nullopt;
  const double b1 = options_.beta1, b2 = options_.beta2;
  // On the CPU the rate is read where it is (no device to wait for; an .item() would count as a
  // synchronisation in the op census).
  const bool rate_on_device = rate.tensor.defined() && !rate.tensor.is_cpu();
  const double rate_value =
      rate.tensor.defined() && !rate_on_device
          ? (rate.tensor.scalar_type() == at::kFloat ? double(*rate.tensor.data_ptr<float>())
                                                     : rate.tensor.item<double>())
          : rate.value;
  // The kernel reads a device rate as a float on the parameters' device.
  const at::Tensor base = rate_on_device && (rate.tensor.scalar_type() != at::kFloat ||
                                             rate.tensor.device() != device())
                              ? rate.tensor.to(device(), at::kFloat)
                              : rate.tensor;
  for (const FusedRun& run : fused_) {
    if (rate_on_device) {
      const at::Tensor lr = run.lr_scale == 1 ? base : base * run.lr_scale;
      at::_fused_adamw_(run.p, run.g, run.m, run.v, {}, run.steps, lr, b1, b2, run.weight_decay,
                        options_.eps, /*amsgrad=*/false, /*maximize=*/false, std::nullopt, skip);
    } else {
      at::_fused_adamw_(run.p, run.g, run.m, run.v, {}, run.steps, rate_value * run.lr_scale, b1,
                        b2, run.weight_decay, options_.eps, /*amsgrad=*/false,
                        /*maximize=*/false, std::nullopt, skip);
    }
  }
}

// LAMB: each parameter's update times ||w|| / ||update|| (1 where either norm is zero), from
// segment sums of squares: [elements].
at::Tensor AdamW::trust_ratios(const GroupState& state, const at::Tensor& p,
                               const at::Tensor& update) const {
  // Sums of squares in double: a long segment (the word embeddings) summed in fp32 loses digits.
  const auto segment_norm = [&](const at::Tensor& x) {
    return at::segment_reduce(x.to(at::kDouble).square_(), "sum", state.lengths,
                              /*indices=*/{}, /*offsets=*/{}, /*axis=*/0, /*unsafe=*/true)
        .sqrt_();
  };
  const at::Tensor w_norm = segment_norm(p), u_norm = segment_norm(update);  // [segments]
  // Both norms positive exactly when their product is (a product under 1e-308 aside).
  const at::Tensor ratio = at::where((w_norm * u_norm).gt(0), w_norm / u_norm, 1.0);
  // In double (the caller multiplies it into the update in place, in the update's dtype).
  return at::repeat_interleave(ratio, state.lengths, /*dim=*/0, state.elements);
}

void AdamW::set_lr_scales(const std::function<double(const std::string&)>& scale) {
  for (auto& slot : slots_) slot.lr_scale = scale(slot.name);
  for (size_t g = 0; g < groups_.size(); ++g) {
    std::vector<double> scales;
    for (const auto& segment : flat_->groups()[g].segments) scales.push_back(scale(segment.name));
    const bool all_one = std::all_of(scales.begin(), scales.end(), [](double s) { return s == 1; });
    GroupState& state = groups_[g];
    state.lr_scale = all_one ? at::Tensor()
                             : per_element(scales, state.lengths, state.elements,
                                           flat_->groups()[g].values.scalar_type());
  }
  build_fused_runs();
}

int64_t AdamW::steps_taken() const {
  return int64_t(steps_.item<double>());
}

double layerwise_lr_factor(int depth, int layers, double decay) {
  return std::pow(decay, double(layers + 1 - depth));
}

double scheduled_learning_rate(double lr, int64_t step, int64_t warmup_steps, int64_t total_steps) {
  const double warmup = warmup_steps > 0 ? std::min(1.0, double(step) / double(warmup_steps)) : 1.0;
  const double decay =
      total_steps > 0 ? std::max(0.0, 1.0 - double(step) / double(total_steps)) : 1.0;
  return lr * warmup * decay;
}

torch::Tensor clip_gradient_norm(torch::nn::Module& module, double max_norm) {
  return clip_gradient_norm(*FlatParameters::of(module), max_norm);
}

torch::Tensor clip_gradient_norm(FlatParameters& flat, double max_norm) {
  torch::NoGradGuard no_grad;
  flat.bind();
  auto& groups = flat.groups();
  if (groups.empty()) return torch::zeros({});
  // The norm accumulated in double: millions of squares summed in fp32 lose digits (1e-4
  // relative at ELECTRA-Small's size with LibTorch 1.13's CPU reduction).
  const auto norm = [](const at::Tensor& x) {
    return at::linalg_vector_norm(x, 2, c10::nullopt, false, at::kDouble);
  };
  at::Tensor total;
  if (groups.size() == 1) {
    total = norm(groups.front().gradients);
  } else {
    std::vector<at::Tensor> norms;
    for (const auto& group : groups) norms.push_back(norm(group.gradients));
    total = norm(at::stack(norms));
  }
  const torch::Tensor scale = (max_norm / (total + 1e-6)).clamp_max(1.0);  // as torch's clip
  // A 0-dim factor: the product is computed in the gradients' dtype.
  for (auto& group : groups) group.gradients.mul_(scale);
  return total;
}

void AdamW::save(torch::serialize::OutputArchive& archive) const {
  archive.write("steps", torch::tensor(steps_taken(), torch::kLong));
  for (const auto& slot : slots_) {
    archive.write("m." + slot.name, slot.m.to(at::kCPU));  // the file says "cpu" (loaded onto
    archive.write("v." + slot.name, slot.v.to(at::kCPU));  // any device: load_from's device)
  }
}

namespace {

// The saved moment of parameter `name`: under its name, or as the three parts of a fused
// attention projection in archives written before the fusion (undefined when neither is there).
at::Tensor read_moment(torch::serialize::InputArchive& archive, const std::string& prefix,
                       const std::string& name) {
  torch::Tensor saved;
  if (archive.try_read(prefix + name, saved)) return saved;
  std::vector<at::Tensor> parts;
  for (const auto& part : model::unfused_attention_names(name)) {
    torch::Tensor piece;
    if (!archive.try_read(prefix + part, piece)) return {};
    parts.push_back(piece);
  }
  return parts.empty() ? at::Tensor() : at::cat(parts, 0);
}

}  // namespace

void AdamW::load(torch::serialize::InputArchive& archive) {
  torch::NoGradGuard no_grad;
  torch::Tensor steps;
  archive.read("steps", steps);
  for (auto& slot : slots_) {
    for (auto [prefix, moment] : {std::pair{"m.", &slot.m}, {"v.", &slot.v}}) {
      const at::Tensor saved = read_moment(archive, prefix, slot.name);
      if (!saved.defined() || !saved.sizes().equals(moment->sizes())) {
        throw std::runtime_error("optimizer state for '" + slot.name +
                                 "' is missing or has another shape");
      }
      moment->copy_(saved);
    }
  }
  steps_.fill_(double(steps.item<int64_t>()));
}

}  // namespace electra::train
