#include "app/model/safetensors.h"

#include "data/atomic_file.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace electra::model {

using nlohmann::json;

namespace {

struct DTypeInfo {
  DType dtype;
  const char* name;
  size_t size;
};
constexpr DTypeInfo kDTypes[] = {{DType::kF64, "F64", 8}, {DType::kF32, "F32", 4},
                                 {DType::kF16, "F16", 2}, {DType::kBF16, "BF16", 2},
                                 {DType::kI64, "I64", 8}, {DType::kI32, "I32", 4},
                                 {DType::kI16, "I16", 2}, {DType::kI8, "I8", 1},
                                 {DType::kU8, "U8", 1},   {DType::kBool, "BOOL", 1}};

constexpr uint64_t kMaxHeaderBytes = 100u << 20;  // as the reference implementation

[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw std::runtime_error(source + ": not a valid safetensors file: " + what);
}

}  // namespace

size_t dtype_size(DType dtype) {
  for (const auto& info : kDTypes) {
    if (info.dtype == dtype) return info.size;
  }
  return 0;
}

const char* dtype_name(DType dtype) {
  for (const auto& info : kDTypes) {
    if (info.dtype == dtype) return info.name;
  }
  return "?";
}

std::optional<DType> parse_dtype(std::string_view name) {
  for (const auto& info : kDTypes) {
    if (name == info.name) return info.dtype;
  }
  return std::nullopt;
}

int64_t TensorEntry::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

SafetensorsFile SafetensorsFile::read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open (check the model directory)");
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw std::runtime_error(path + ": read error");
  return parse(buffer.str(), path);
}

SafetensorsFile SafetensorsFile::parse(std::string bytes, const std::string& source) {
  SafetensorsFile file;
  file.source_ = source;
  file.bytes_ = std::move(bytes);
  const std::string& b = file.bytes_;
  if (b.size() < 8) fail(source, "shorter than its 8-byte header length (truncated?)");
  uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i)
    header_length = header_length << 8 | static_cast<unsigned char>(b[size_t(i)]);
  if (header_length > kMaxHeaderBytes)
    fail(source, "header length " + std::to_string(header_length) + " is implausible");
  if (header_length > b.size() - 8) {
    fail(source, "header of " + std::to_string(header_length) + " bytes runs past the end of the " +
                     std::to_string(b.size()) + "-byte file (truncated?)");
  }
  file.data_start_ = 8 + size_t(header_length);
  const uint64_t data_size = b.size() - file.data_start_;
  json header;
  try {
    header = json::parse(b.begin() + 8, b.begin() + long(file.data_start_));
  } catch (const json::exception& e) {
    fail(source, std::string("header is not valid JSON (") + e.what() + ")");
  }
  if (!header.is_object()) fail(source, "header is not a JSON object");
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      if (!value.is_object()) fail(source, "__metadata__ is not an object");
      for (const auto& [key, text] : value.items()) {
        if (!text.is_string()) fail(source, "__metadata__." + key + " is not a string");
        file.metadata_[key] = text.get<std::string>();
      }
      continue;
    }
    const std::string where = "tensor '" + name + "'";
    if (!value.is_object()) fail(source, where + " is not an object");
    TensorEntry entry;
    entry.name = name;
    const auto dtype = value.find("dtype");
    if (dtype == value.end() || !dtype->is_string()) fail(source, where + " has no dtype");
    const auto parsed = parse_dtype(dtype->get<std::string>());
    if (!parsed) fail(source, where + " has unknown dtype " + dtype->dump());
    entry.dtype = *parsed;
    const auto shape = value.find("shape");
    if (shape == value.end() || !shape->is_array()) fail(source, where + " has no shape");
    uint64_t elements = 1;
    for (const auto& d : *shape) {
      if (!d.is_number_unsigned())
        fail(source, where + " has a shape entry that is not a non-negative integer");
      const uint64_t extent = d.get<uint64_t>();
      if (extent != 0 && elements > std::numeric_limits<uint64_t>::max() / extent) {
        fail(source, where + " has an overflowing shape");
      }
      elements *= extent;
      entry.shape.push_back(
          int64_t(std::min<uint64_t>(extent, uint64_t(std::numeric_limits<int64_t>::max()))));
    }
    const auto offsets = value.find("data_offsets");
    if (offsets == value.end() || !offsets->is_array() || offsets->size() != 2 ||
        !(*offsets)[0].is_number_unsigned() || !(*offsets)[1].is_number_unsigned()) {
      fail(source, where + " has no data_offsets [begin, end]");
    }
    entry.begin = (*offsets)[0].get<uint64_t>();
    entry.end = (*offsets)[1].get<uint64_t>();
    if (entry.begin > entry.end || entry.end > data_size) {
      fail(source, where + " has data_offsets outside the " + std::to_string(data_size) +
                       "-byte data section (truncated?)");
    }
    const uint64_t element_size = dtype_size(entry.dtype);
    if (elements > std::numeric_limits<uint64_t>::max() / element_size ||
        elements * element_size != entry.end - entry.begin) {
      fail(source, where + " has " + std::to_string(entry.end - entry.begin) +
                       " bytes for its shape and dtype");
    }
    file.tensors_.push_back(std::move(entry));
  }
  std::sort(file.tensors_.begin(), file.tensors_.end(),
            [](const TensorEntry& a, const TensorEntry& b) {
              return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
            });
  uint64_t expected = 0;
  for (const auto& entry : file.tensors_) {
    if (entry.begin != expected)
      fail(source, "tensor '" + entry.name + "' overlaps another or leaves a gap");
    expected = entry.end;
  }
  if (expected != data_size)
    fail(source, "the data section has " + std::to_string(data_size - expected) +
                     " bytes no tensor describes");
  return file;
}

const TensorEntry* SafetensorsFile::find(const std::string& name) const {
  for (const auto& entry : tensors_) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

std::string_view SafetensorsFile::data(const TensorEntry& entry) const {
  return std::string_view(bytes_).substr(data_start_ + size_t(entry.begin),
                                         size_t(entry.end - entry.begin));
}

std::string serialize_safetensors(std::vector<TensorToWrite> tensors,
                                  const std::map<std::string, std::string>& metadata) {
  std::sort(tensors.begin(), tensors.end(),
            [](const TensorToWrite& a, const TensorToWrite& b) { return a.name < b.name; });
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& tensor : tensors) {
    int64_t elements = 1;
    for (int64_t d : tensor.shape) elements *= d;
    if (uint64_t(elements) * dtype_size(tensor.dtype) != tensor.bytes.size()) {
      throw std::invalid_argument("tensor '" + tensor.name +
                                  "': byte size does not match its shape");
    }
    header[tensor.name] = {{"dtype", dtype_name(tensor.dtype)},
                           {"shape", tensor.shape},
                           {"data_offsets", {offset, offset + tensor.bytes.size()}}};
    offset += tensor.bytes.size();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[size_t(i)] = char((uint64_t(text.size()) >> (8 * i)) & 0xff);
  out += text;
  for (const auto& tensor : tensors) out.append(tensor.bytes);
  return out;
}

void write_safetensors(const std::string& path, std::vector<TensorToWrite> tensors,
                       const std::map<std::string, std::string>& metadata) {
  data::write_file_atomically(path, serialize_safetensors(std::move(tensors), metadata));
}

}  // namespace electra::model
