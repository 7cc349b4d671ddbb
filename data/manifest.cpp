#include "data/manifest.h"

#include "data/atomic_file.h"

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

json Manifest::to_json() const {
  json shard_list = json::array();
  for (const auto& shard : shards) {
    shard_list.push_back({{"file", shard.file},
                          {"split", shard.split},
                          {"num_examples", shard.num_examples},
                          {"num_tokens", shard.num_tokens},
                          {"sha256", shard.sha256}});
  }
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
  std::ifstream in(path);
  if (!in) {
    throw std::runtime_error(path +
                             ": missing; the directory is not a prepared corpus (or its "
                             "preparation did not finish): run `electra prepare`");
  }
  json document;
  try {
    document = json::parse(in);
  } catch (const json::exception& e) {
    throw std::runtime_error(path + ": not valid JSON (" + e.what() + ")");
  }
  auto field = [&](const json& object, const char* name) -> const json& {
    if (!object.is_object() || !object.contains(name)) {
      throw std::runtime_error(path + ": field '" + name + "' is missing");
    }
    return object.at(name);
  };
  Manifest manifest;
  try {
    manifest.format_version = field(document, "format_version").get<int>();
    if (manifest.format_version > kManifestFormatVersion) {
      throw std::runtime_error(path + ": manifest format " +
                               std::to_string(manifest.format_version) +
                               " is newer than this electra understands; update electra");
    }
    manifest.vocab_sha256 = field(document, "vocab_sha256").get<std::string>();
    manifest.vocab_size = field(document, "vocab_size").get<long long>();
    manifest.lowercase = field(document, "lowercase").get<bool>();
    manifest.max_seq_length = field(document, "max_seq_length").get<long long>();
    manifest.preparation = document.value("preparation", json::object());
    for (const auto& entry : field(document, "shards")) {
      ManifestShard shard;
      shard.file = field(entry, "file").get<std::string>();
      shard.split = field(entry, "split").get<std::string>();
      shard.num_examples = field(entry, "num_examples").get<long long>();
      shard.num_tokens = field(entry, "num_tokens").get<long long>();
      shard.sha256 = field(entry, "sha256").get<std::string>();
      manifest.shards.push_back(shard);
    }
  } catch (const json::exception& e) {
    throw std::runtime_error(path + ": a field has the wrong type (" + e.what() + ")");
  }
  return manifest;
}

void Manifest::write(const std::string& dir) const {
  write_file_atomically((std::filesystem::path(dir) / kManifestFile).string(),
                        to_json().dump(2) + "\n");
}

}  // namespace electra::data
