#include "app/train/tensorboard_events.h"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "app/train/tensorboard_event.pb.h"

namespace electra::train {

namespace {

constexpr const char* kFileVersion = "brain.Event:2";

const std::array<uint32_t, 256>& crc32c_table() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t crc = i;
      for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1) ? 0x82F63B78u : 0);
      t[i] = crc;
    }
    return t;
  }();
  return table;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

template <typename T>
std::string little_endian(T value) {
  std::string bytes(sizeof(T), '\0');
  for (size_t i = 0; i < sizeof(T); ++i) bytes[i] = char((uint64_t(value) >> (8 * i)) & 0xFF);
  return bytes;
}

template <typename T>
T from_little_endian(const char* bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < sizeof(T); ++i) value |= uint64_t(uint8_t(bytes[i])) << (8 * i);
  return T(value);
}

}  // namespace

uint32_t crc32c(const void* data, size_t size) {
  const auto& table = crc32c_table();
  const auto* bytes = static_cast<const uint8_t*>(data);
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) crc = table[(crc ^ bytes[i]) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

uint32_t masked_crc32c(const void* data, size_t size) {
  const uint32_t crc = crc32c(data, size);
  return ((crc >> 15) | (crc << 17)) + 0xA282EAD8u;
}

TensorBoardWriter::TensorBoardWriter(const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  path_ = (std::filesystem::path(dir) /
           ("events.out.tfevents." + std::to_string(int64_t(now_seconds())) + "." + host + "." +
            std::to_string(getpid())))
              .string();
  file_ = std::fopen(path_.c_str(), "ab");
  if (!file_) {
    throw std::runtime_error(path_ +
                             ": cannot create the TensorBoard event file: " + std::strerror(errno));
  }
  tensorboard::Event event;
  event.set_wall_time(now_seconds());
  event.set_file_version(kFileVersion);
  write_record(event.SerializeAsString());
}

TensorBoardWriter::~TensorBoardWriter() {
  if (file_) std::fclose(file_);
}

void TensorBoardWriter::add_scalars(int64_t step, const std::map<std::string, double>& scalars) {
  tensorboard::Event event;
  event.set_wall_time(now_seconds());
  event.set_step(step);
  for (const auto& [tag, value] : scalars) {
    auto* entry = event.mutable_summary()->add_value();
    entry->set_tag(tag);
    entry->set_simple_value(float(value));
  }
  write_record(event.SerializeAsString());
}

void TensorBoardWriter::write_record(const std::string& bytes) {
  const std::string length = little_endian<uint64_t>(bytes.size());
  const std::string record =
      length + little_endian<uint32_t>(masked_crc32c(length.data(), length.size())) + bytes +
      little_endian<uint32_t>(masked_crc32c(bytes.data(), bytes.size()));
  if (std::fwrite(record.data(), 1, record.size(), file_) != record.size() ||
      std::fflush(file_) != 0) {
    throw std::runtime_error(path_ + ": cannot write: " + std::strerror(errno));
  }
}

std::vector<ScalarEvent> read_tensorboard_events(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot read");
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::vector<ScalarEvent> events;
  size_t offset = 0;
  bool first = true;
  while (offset < bytes.size()) {
    const auto damaged = [&](const std::string& what) {
      return std::runtime_error(path + ": damaged record at byte " + std::to_string(offset) + ": " +
                                what);
    };
    if (bytes.size() - offset < 12) throw damaged("truncated header");
    const char* header = bytes.data() + offset;
    const auto length = from_little_endian<uint64_t>(header);
    if (from_little_endian<uint32_t>(header + 8) != masked_crc32c(header, 8))
      throw damaged("length CRC mismatch");
    if (bytes.size() - offset - 12 < length + 4) throw damaged("truncated data");
    const char* data = header + 12;
    if (from_little_endian<uint32_t>(data + length) != masked_crc32c(data, size_t(length)))
      throw damaged("data CRC mismatch");
    tensorboard::Event event;
    if (!event.ParseFromArray(data, int(length))) throw damaged("not an Event protobuf");
    if (first) {
      if (event.file_version() != kFileVersion) throw damaged("no file_version first");
      first = false;
    } else if (event.has_summary()) {
      ScalarEvent scalar{event.step(), event.wall_time(), {}};
      for (const auto& value : event.summary().value())
        scalar.scalars[value.tag()] = value.simple_value();
      events.push_back(std::move(scalar));
    }
    offset += 12 + size_t(length) + 4;
  }
  return events;
}

}  // namespace electra::train
