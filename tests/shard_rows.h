// Test helper: every example of a set of shards as a sortable key, to compare corpora as sets.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "data/shard_reader.h"

namespace electra::testing {

// "split:ids bytes + segment ids" of every row of the (path, split) shards, sorted.
inline std::vector<std::string> example_keys(
    const std::vector<std::pair<std::string, std::string>>& shards) {
  std::vector<std::string> rows;
  for (const auto& [path, split] : shards) {
    data::ShardReader reader(path);
    for (long long r = 0; r < reader.num_rows(); ++r) {
      const data::Example e = reader.read_row(r);
      std::string key(reinterpret_cast<const char*>(e.input_ids.data()), e.input_ids.size() * 4);
      key.append(e.segment_ids.begin(), e.segment_ids.end());
      rows.push_back(split + ":" + key);
    }
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

}  // namespace electra::testing
