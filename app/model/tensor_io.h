// Between safetensors entries and LibTorch tensors.
#pragma once

#include <ATen/Tensor.h>

#include <map>
#include <string>
#include <vector>

#include "app/model/safetensors.h"

namespace electra::model {

// A CPU tensor holding a copy of the entry's data.
at::Tensor to_tensor(const SafetensorsFile& file, const TensorEntry& entry);
// Every tensor of a file by name.
std::map<std::string, at::Tensor> read_tensors(const std::string& path);
// Writes named tensors (any device; copied to contiguous CPU) atomically.
void write_tensors(const std::string& path,
                   const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                   const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

}  // namespace electra::model
