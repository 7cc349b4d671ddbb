#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "data/manifest.h"
#include "data/sha256.h"
#include "data/shard_reader.h"
#include "data/shard_writer.h"
#include "data/text_line_reader.h"
#include "data/vocabulary.h"
#include "test_util.h"

namespace electra::data {
namespace {

using electra::testing::TempDir;
namespace fs = std::filesystem;

ShardAttributes attributes(long long vocab_size, long long length) {
  ShardAttributes a;
  a.vocab_sha256 = std::string(64, 'a');
  a.vocab_size = vocab_size;
  a.max_seq_length = length;
  a.split = "train";
  return a;
}

Example make_example(int32_t seed, long long length, int32_t vocab_size) {
  Example e;
  const auto real = size_t(2 + seed % (length - 2));
  for (long long i = 0; i < length; ++i) {
    const bool is_real = size_t(i) < real;
    e.input_ids.push_back(is_real ? (seed * 31 + int32_t(i) * 7) % vocab_size : 0);
    e.input_mask.push_back(is_real);
    e.segment_ids.push_back(is_real && size_t(i) > real / 2);
  }
  return e;
}

std::string write_shard(const std::string& path, int rows, long long vocab_size = 30522,
                        long long length = 16, size_t chunk_rows = 8) {
  ShardWriter writer(path, attributes(vocab_size, length), chunk_rows);
  for (int r = 0; r < rows; ++r) writer.append(make_example(r, length, int32_t(vocab_size)));
  return writer.finish().sha256;
}

TEST(ShardWriter, RoundTripsRowsAndAttributes) {
  TempDir dir;
  const std::string path = dir / "a.h5";
  const std::string sha = write_shard(path, 21);
  EXPECT_EQ(sha, sha256_file(path));
  ShardReader reader(path);
  EXPECT_EQ(reader.num_rows(), 21);
  EXPECT_EQ(reader.seq_length(), 16);
  EXPECT_EQ(reader.attributes().split, "train");
  EXPECT_EQ(reader.attributes().vocab_size, 30522);
  for (int r = 0; r < 21; ++r) EXPECT_EQ(reader.read_row(r), make_example(r, 16, 30522)) << r;
  auto block = reader.read_rows(5, 10);
  EXPECT_EQ(block.example(3), make_example(8, 16, 30522));
}

TEST(ShardWriter, StoresIdsInTheNarrowestType) {
  TempDir dir;
  for (auto [vocab, expected_bytes] : {std::pair{200LL, 1}, {30522LL, 2}, {70000LL, 4}}) {
    const std::string path = dir / ("v" + std::to_string(vocab) + ".h5");
    write_shard(path, 3, vocab);
    std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
    H5Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    H5Handle dataset(H5Dopen2(file.get(), kInputIds, H5P_DEFAULT), H5Dclose);
    H5Handle type(H5Dget_type(dataset.get()), H5Tclose);
    EXPECT_EQ(H5Tget_size(type.get()), size_t(expected_bytes)) << vocab;
    EXPECT_EQ(H5Tget_sign(type.get()), H5T_SGN_NONE);
    H5Handle properties(H5Dget_create_plist(dataset.get()), H5Pclose);
    EXPECT_EQ(H5Pget_layout(properties.get()), H5D_CHUNKED);
  }
}

TEST(ShardWriter, UnfinishedShardNeverAppearsUnderItsName) {
  TempDir dir;
  const std::string path = dir / "b.h5";
  {
    ShardWriter writer(path, attributes(100, 8), 4);
    for (int r = 0; r < 10; ++r) writer.append(make_example(r, 8, 100));
    EXPECT_FALSE(fs::exists(path));
    EXPECT_TRUE(fs::exists(path + ".tmp"));
  }  // destroyed without finish(): as after a failure
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(ShardReader, RefusesTruncatedCorruptAndForeignFiles) {
  TempDir dir;
  const std::string good = dir / "good.h5";
  write_shard(good, 200);
  const auto size = fs::file_size(good);

  const std::string truncated = dir / "truncated.h5";
  fs::copy_file(good, truncated);
  fs::resize_file(truncated, size / 2);
  try {
    ShardReader reader(truncated);
    reader.read_rows(0, reader.num_rows());
    FAIL() << "a truncated shard was read";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(truncated), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("electra prepare"), std::string::npos) << e.what();
  }

  const std::string corrupt = dir / "corrupt.h5";
  electra::testing::write_file(corrupt, std::string(4096, 'x'));
  EXPECT_THROW(
      {
        try {
          ShardReader reader(corrupt);
        } catch (const std::runtime_error& e) {
          EXPECT_NE(std::string(e.what()).find("not an HDF5 file"), std::string::npos);
          throw;
        }
      },
      std::runtime_error);
  EXPECT_THROW(ShardReader(dir / "missing.h5"), std::runtime_error);
}

TEST(ShardReader, RefusesAShardOfAnotherVocabulary) {
  TempDir dir;
  const std::string path = dir / "s.h5";
  write_shard(path, 3);
  auto vocab = Vocabulary::from_tokens({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "x"});
  ShardReader reader(path);
  try {
    reader.check_vocabulary(vocab, true);
    FAIL() << "vocabulary mismatch not detected";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("another vocabulary"), std::string::npos) << e.what();
  }
}

TEST(Manifest, RoundTripsAndNamesMissingFields) {
  TempDir dir;
  Manifest manifest;
  manifest.vocab_sha256 = "abc";
  manifest.vocab_size = 10;
  manifest.max_seq_length = 128;
  manifest.shards = {{"train-00000.h5", "train", 5, 50, "f00"},
                     {"validation-00000.h5", "validation", 1, 9, "ba7"}};
  manifest.write(dir.path().string());
  Manifest loaded = Manifest::load(dir.path().string());
  EXPECT_EQ(loaded.to_json(), manifest.to_json());
  EXPECT_EQ(loaded.num_examples("train"), 5);
  EXPECT_FALSE(fs::exists(dir / "manifest.json.tmp"));

  electra::testing::write_file(dir / "manifest.json", R"({"format_version": 1, "shards": []})");
  try {
    Manifest::load(dir.path().string());
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("vocab_sha256"), std::string::npos) << e.what();
  }
}

TEST(TextLineReader, SplitsLinesAndRefusesOverlongOnes) {
  TempDir dir;
  electra::testing::write_file(dir / "t.txt", "one\r\ntwo\n\nlast");
  TextLineReader reader(dir / "t.txt", 100);
  std::vector<std::string> lines;
  std::string_view line;
  while (reader.next(line)) lines.emplace_back(line);
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two", "", "last"}));

  electra::testing::write_file(dir / "long.txt", "ok\n" + std::string(5000, 'x') + "\n");
  TextLineReader long_reader(dir / "long.txt", 1000);
  ASSERT_TRUE(long_reader.next(line));
  try {
    long_reader.next(line);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("long.txt:2: line longer than 1000"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace electra::data
