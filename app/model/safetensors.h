// The safetensors format (HuggingFace): 8-byte little-endian header length N, N bytes of JSON
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}, then the data.
// Pure C++ (no LibTorch) so that it can be fuzzed under AddressSanitizer on its own.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace electra::model {

enum class DType { kF64, kF32, kF16, kBF16, kI64, kI32, kI16, kI8, kU8, kBool };

size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);  // "F32", ...
std::optional<DType> parse_dtype(std::string_view name);

struct TensorEntry {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte offsets in the data section
  int64_t numel() const;
};

class SafetensorsFile {
 public:
  // Reads and validates a file; throws std::runtime_error naming the file and the problem
  // (header length, JSON, dtype, shape, offsets, size) when it is malformed or truncated.
  static SafetensorsFile read(const std::string& path);
  // Validates bytes already in memory; `source` names them in errors.
  static SafetensorsFile parse(std::string bytes, const std::string& source);

  const std::vector<TensorEntry>& tensors() const { return tensors_; }  // in data order
  const TensorEntry* find(const std::string& name) const;
  std::string_view data(const TensorEntry& entry) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& source() const { return source_; }

 private:
  std::string bytes_;
  size_t data_start_ = 0;
  std::vector<TensorEntry> tensors_;
  std::map<std::string, std::string> metadata_;
  std::string source_;
};

struct TensorToWrite {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::string_view bytes;  // numel * dtype_size bytes, row-major
};

// The file's bytes: tensors sorted by name (as the reference writer does), header padded with
// spaces to a multiple of 8 bytes.
std::string serialize_safetensors(std::vector<TensorToWrite> tensors,
                                  const std::map<std::string, std::string>& metadata);
// Writes through a temporary file and a rename; throws naming the file.
void write_safetensors(const std::string& path, std::vector<TensorToWrite> tensors,
                       const std::map<std::string, std::string>& metadata);

}  // namespace electra::model
