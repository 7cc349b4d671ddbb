// Checks a prepared corpus before anyone trains on it: the manifest, and for every shard its
// checksum, attributes, vocabulary and every row's values.
#pragma once

#include <functional>
#include <string>

#include "data/manifest.h"
#include "data/vocabulary.h"

namespace electra::data {

struct VerifiedShard {
  std::string file;
  long long rows = 0;
};

// Throws std::runtime_error naming the shard and what to do at the first problem; calls
// `on_shard` after each shard that passed.
Manifest verify_corpus(const std::string& dir, const Vocabulary& vocab, bool lowercase,
                       const std::function<void(const VerifiedShard&)>& on_shard);

}  // namespace electra::data
