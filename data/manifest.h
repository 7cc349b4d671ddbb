// DIR/manifest.json: what a prepared corpus holds (DESIGN.md section 4): the shards with their
// split, example and token counts and sha256, the vocabulary and sequence length they were made
// with, and how they were made. Written last, atomically: a directory without it is incomplete.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace electra::data {

inline constexpr int kManifestFormatVersion = 1;
inline constexpr const char* kManifestFile = "manifest.json";

struct ManifestShard {
  std::string file;   // relative to the manifest's directory
  std::string split;  // "train" or "validation"
  long long num_examples = 0;
  long long num_tokens = 0;
  std::string sha256;
};

// One shard entry as JSON, and back (throws naming `where` and the field).
nlohmann::json shard_to_json(const ManifestShard& shard);
ManifestShard shard_from_json(const nlohmann::json& json, const std::string& where);

struct Manifest {
  int format_version = kManifestFormatVersion;
  std::string vocab_sha256;
  long long vocab_size = 0;
  bool lowercase = true;
  long long max_seq_length = 0;
  nlohmann::json preparation;  // how it was made: inputs, seed, val_fraction, ranks, tool
  std::vector<ManifestShard> shards;

  std::vector<ManifestShard> split(const std::string& name) const;
  long long num_examples(const std::string& split_name) const;

  nlohmann::json to_json() const;
  // Reads DIR/manifest.json; throws naming the file and field when it is missing or malformed.
  static Manifest load(const std::string& dir);
  // Writes DIR/manifest.json through a temporary file and a rename.
  void write(const std::string& dir) const;
};

}  // namespace electra::data
