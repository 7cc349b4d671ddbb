#include "app/model/tensor_io.h"

#include <ATen/Functions.h>

#include <cstring>
#include <stdexcept>

namespace electra::model {

namespace {

// safetensors dtype <-> LibTorch scalar type, one table for both directions.
constexpr std::pair<DType, at::ScalarType> kScalarTypes[] = {
    {DType::kF64, at::kDouble},    {DType::kF32, at::kFloat}, {DType::kF16, at::kHalf},
    {DType::kBF16, at::kBFloat16}, {DType::kI64, at::kLong},  {DType::kI32, at::kInt},
    {DType::kI16, at::kShort},     {DType::kI8, at::kChar},   {DType::kU8, at::kByte},
    {DType::kBool, at::kBool}};

at::ScalarType scalar_type(DType dtype) {
  for (const auto& [ours, torch_type] : kScalarTypes) {
    if (ours == dtype) return torch_type;
  }
  throw std::logic_error("unknown dtype");
}

DType safetensors_dtype(at::ScalarType type, const std::string& name) {
  for (const auto& [ours, torch_type] : kScalarTypes) {
    if (torch_type == type) return ours;
  }
  throw std::invalid_argument("tensor '" + name + "': no safetensors dtype for it");
}

}  // namespace

at::Tensor to_tensor(const SafetensorsFile& file, const TensorEntry& entry) {
  at::Tensor tensor = at::empty(entry.shape, at::TensorOptions().dtype(scalar_type(entry.dtype)));
  const std::string_view bytes = file.data(entry);
  if (!bytes.empty())
    std::memcpy(tensor.data_ptr(), bytes.data(), bytes.size());  // little-endian host
  return tensor;
}

std::map<std::string, at::Tensor> read_tensors(const std::string& path) {
  const SafetensorsFile file = SafetensorsFile::read(path);
  std::map<std::string, at::Tensor> tensors;
  for (const auto& entry : file.tensors()) tensors[entry.name] = to_tensor(file, entry);
  return tensors;
}

void write_tensors(const std::string& path,
                   const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                   const std::map<std::string, std::string>& metadata) {
  std::vector<at::Tensor> host;  // keeps the bytes alive while writing
  std::vector<TensorToWrite> entries;
  host.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) {
    host.push_back(tensor.detach().to(at::kCPU).contiguous());
    const at::Tensor& t = host.back();
    entries.push_back({name, safetensors_dtype(t.scalar_type(), name),
                       std::vector<int64_t>(t.sizes().begin(), t.sizes().end()),
                       std::string_view(static_cast<const char*>(t.data_ptr()), t.nbytes())});
  }
  write_safetensors(path, std::move(entries), metadata);
}

}  // namespace electra::model
