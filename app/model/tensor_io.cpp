#include "app/model/tensor_io.h"

#include <ATen/Functions.h>

#include <cstring>
#include <stdexcept>

namespace electra::model {

namespace {

at::ScalarType scalar_type(DType dtype) {
  switch (dtype) {
    case DType::kF64:
      return at::kDouble;
    case DType::kF32:
      return at::kFloat;
    case DType::kF16:
      return at::kHalf;
    case DType::kBF16:
      return at::kBFloat16;
    case DType::kI64:
      return at::kLong;
    case DType::kI32:
      return at::kInt;
    case DType::kI16:
      return at::kShort;
    case DType::kI8:
      return at::kChar;
    case DType::kU8:
      return at::kByte;
    case DType::kBool:
      return at::kBool;
  }
  throw std::logic_error("unknown dtype");
}

DType safetensors_dtype(at::ScalarType type, const std::string& name) {
  switch (type) {
    case at::kDouble:
      return DType::kF64;
    case at::kFloat:
      return DType::kF32;
    case at::kHalf:
      return DType::kF16;
    case at::kBFloat16:
      return DType::kBF16;
    case at::kLong:
      return DType::kI64;
    case at::kInt:
      return DType::kI32;
    case at::kShort:
      return DType::kI16;
    case at::kChar:
      return DType::kI8;
    case at::kByte:
      return DType::kU8;
    case at::kBool:
      return DType::kBool;
    default:
      throw std::invalid_argument("tensor '" + name + "': no safetensors dtype for it");
  }
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
