// The values of --device (pretrain, finetune, sweep), checked where the options are read; the
// device itself is chosen by rank_device.h.
#pragma once

#include <stdexcept>
#include <string>

namespace electra::train {

// Throws std::invalid_argument naming --device for a value other than auto, cpu or cuda.
inline void check_device_choice(const std::string& choice) {
  if (choice != "auto" && choice != "cpu" && choice != "cuda") {
    throw std::invalid_argument("--device must be auto, cpu or cuda (not '" + choice + "')");
  }
}

}  // namespace electra::train
