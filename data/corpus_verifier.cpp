#include "data/corpus_verifier.h"

#include <filesystem>
#include <stdexcept>

#include "data/sha256.h"
#include "data/shard_reader.h"

namespace electra::data {

Manifest verify_corpus(const std::string& dir, const Vocabulary& vocab, bool lowercase,
                       const std::function<void(const VerifiedShard&)>& on_shard) {
  Manifest manifest = Manifest::load(dir);
  const std::string manifest_path = (std::filesystem::path(dir) / kManifestFile).string();
  if (manifest.vocab_sha256 != vocab.sha256()) {
    throw std::runtime_error(
        manifest_path + ": the corpus was prepared with another vocabulary (sha256 " +
        manifest.vocab_sha256.substr(0, 12) + "...) than " + vocab.source() + " (sha256 " +
        vocab.sha256().substr(0, 12) + "...); pass the vocabulary it was prepared with");
  }
  for (const auto& entry : manifest.shards) {
    const std::string path = (std::filesystem::path(dir) / entry.file).string();
    ShardReader reader(path);
    reader.check_vocabulary(vocab, lowercase);
    reader.check_manifest_entry(entry, manifest.max_seq_length);
    if (sha256_file(path) != entry.sha256) {
      throw std::runtime_error(path +
                               ": sha256 differs from the manifest (the file changed or is "
                               "damaged); prepare the corpus again");
    }
    constexpr long long kBlockRows = 4096;
    for (long long first = 0; first < reader.num_rows(); first += kBlockRows) {
      const RowBlock block =
          reader.read_rows(first, std::min(kBlockRows, reader.num_rows() - first));
      for (size_t i = 0; i < block.input_ids.size(); ++i) {
        if (block.input_ids[i] < 0 || block.input_ids[i] >= int32_t(vocab.size()) ||
            block.input_mask[i] > 1 || block.segment_ids[i] > 1) {
          throw std::runtime_error(path + ": row " +
                                   std::to_string(first + (long long)i / block.length) +
                                   " holds values outside the vocabulary or 0/1 masks; prepare "
                                   "the corpus again");
        }
      }
    }
    on_shard({entry.file, reader.num_rows()});
  }
  return manifest;
}

}  // namespace electra::data
