// TensorBoard event files (OUT/tensorboard/events.out.tfevents.TIME.HOST): TFRecord framing —
// uint64 length, masked CRC32C of the length, the serialized Event, masked CRC32C of it — with
// the Event protobuf (tensorboard_event.proto, TensorFlow's field numbers) from libprotobuf.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace electra::train {

// CRC-32C (Castagnoli), as TFRecord uses it, and TFRecord's masking of it.
uint32_t crc32c(const void* data, size_t size);
uint32_t masked_crc32c(const void* data, size_t size);

class TensorBoardWriter {
 public:
  // Creates DIR if needed and a new event file in it; throws naming the file.
  explicit TensorBoardWriter(const std::string& dir);
  ~TensorBoardWriter();
  TensorBoardWriter(const TensorBoardWriter&) = delete;
  TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;

  // One event with a scalar per tag, flushed so that TensorBoard sees it while training runs.
  void add_scalars(int64_t step, const std::map<std::string, double>& scalars);
  const std::string& path() const { return path_; }

 private:
  void write_record(const std::string& bytes);
  std::string path_;
  std::FILE* file_ = nullptr;
};

// What a reader of an event file sees: one entry per event with scalars.
struct ScalarEvent {
  int64_t step = 0;
  double wall_time = 0;
  std::map<std::string, float> scalars;
};
// Reads an event file, checking every record's framing and CRCs; throws naming the file and the
// offset of a damaged record. The first event (file_version) is checked and not returned.
std::vector<ScalarEvent> read_tensorboard_events(const std::string& path);

}  // namespace electra::train
