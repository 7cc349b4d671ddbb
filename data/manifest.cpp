#include "data/manifest.h"

#include "data/atomic_file.h"
#include "data/json_fields.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace electra::data {

using nlohmann::json;

std::vector<ManifestShard> Manifest::split(const std::string& name) const {
  std::vector<ManifestShard> selected;
  for (const auto& shard : shards) {
    if (shard.split == name) selected.push_back(shard);
  }
  return selected;
}

long long Manifest::num_examples(const std::string& split_name) const {
  long long total = 0;
  for (const auto& shard : split(split_name)) total += shard.num_examples;
  return total;
}

json shard_to_json(const ManifestShard& shard) {
  return {{"file", shard.file},
          {"split", shard.split},
          {"num_examples", shard.num_examples},
          {"num_tokens", shard.num_tokens},
          {"sha256", shard.sha256}};
}

ManifestShard shard_from_json(const json& entry, const std::string& where) {
  return {json_field<std::string>(entry, "file", where),
          json_field<std::string>(entry, "split", where),
          json_field<long long>(entry, "num_examples", where),
          json_field<long long>(entry, "num_tokens", where),
          json_field<std::string>(entry, "sha256", where)};
}

json Manifest::to_json() const {
  json shard_list = json::array();
  for (const auto& shard : shards) shard_list.push_back(shard_to_json(shard));
  return {{"format_version", format_version},
          {"vocab_sha256", vocab_sha256},
          {"vocab_size", vocab_size},
          {"lowercase", lowercase},
          {"max_seq_length", max_seq_length},
          {"num_train_examples", num_examples("train")},
          {"num_validation_examples", num_examples("validation")},
          {"preparation", preparation},
          {"shards", shard_list}};
}

Manifest Manifest::load(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / kManifestFile).string();
  const json document =
      read_json_file(path,
                     "missing; the directory is not a prepared corpus (or its preparation did not "
                     "finish): run `electra prepare`");
  Manifest manifest;
  manifest.format_version = json_field<int>(document, "format_version", path);
  if (manifest.format_version > kManifestFormatVersion) {
    throw std::runtime_error(path + ": manifest format " + std::to_string(manifest.format_version) +
                             " is newer than this electra understands; update electra");
  }
  manifest.vocab_sha256 = json_field<std::string>(document, "vocab_sha256", path);
  manifest.vocab_size = json_field<long long>(document, "vocab_size", path);
  manifest.lowercase = json_field<bool>(document, "lowercase", path);
  manifest.max_seq_length = json_field<long long>(document, "max_seq_length", path);
  manifest.preparation = document.value("preparation", json::object());
  for (const auto& entry : json_field<json>(document, "shards", path)) {
    manifest.shards.push_back(shard_from_json(entry, path + " shard"));
  }
  return manifest;
}

void Manifest::write(const std::string& dir) const {
  write_file_atomically((std::filesystem::path(dir) / kManifestFile).string(),
                        to_json().dump(2) + "\n");
}

}  // namespace electra::data
