// The safetensors reader refuses malformed files with a clear error; the writer's output reads
// back. Pure C++: this suite also runs under AddressSanitizer (safetensors_fuzz_test).
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "app/model/safetensors.h"

namespace electra::model {
namespace {

std::string sample_file() {
  static const float weights[6] = {1, 2, 3, 4, 5, 6};
  static const int64_t ids[3] = {7, 8, 9};
  return serialize_safetensors(
      {{"w", DType::kF32, {2, 3}, {reinterpret_cast<const char*>(weights), 24}},
       {"ids", DType::kI64, {3}, {reinterpret_cast<const char*>(ids), 24}},
       {"empty", DType::kBF16, {0, 4}, {}}},
      {{"format", "pt"}});
}

std::string error_of(std::string bytes) {
  try {
    SafetensorsFile::parse(std::move(bytes), "f.safetensors");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

std::string with_header(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[size_t(i)] = char((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

TEST(Safetensors, WrittenFilesReadBack) {
  const std::string bytes = sample_file();
  EXPECT_EQ((bytes.size() - 8) % 8, 0u);  // header padded to 8 bytes
  const auto file = SafetensorsFile::parse(bytes, "sample");
  ASSERT_EQ(file.tensors().size(), 3u);
  const TensorEntry* w = file.find("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(w->dtype, DType::kF32);
  float back[6];
  std::memcpy(back, file.data(*w).data(), 24);
  EXPECT_EQ(back[5], 6.0f);
  EXPECT_EQ(file.metadata().at("format"), "pt");
  EXPECT_EQ(file.find("empty")->numel(), 0);
}

// True when parsing `bytes` fails with an error containing `needle`.
::testing::AssertionResult refused_with(std::string bytes, const std::string& needle) {
  const std::string error = error_of(std::move(bytes));
  if (error.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "error '" << error << "' lacks '" << needle << "'";
}

TEST(Safetensors, RefusesMalformedFilesByName) {
  EXPECT_TRUE(refused_with("abc", "shorter than its 8-byte header length"));
  EXPECT_TRUE(refused_with(with_header("{\"a\":", ""), "not valid JSON"));
  EXPECT_TRUE(refused_with(std::string("\xff\xff\xff\xff\xff\xff\xff\x7f", 8), "implausible"));
  const std::string bytes = sample_file();
  EXPECT_TRUE(refused_with(bytes.substr(0, bytes.size() - 5), "truncated"));
  EXPECT_TRUE(
      refused_with(with_header(R"({"t":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}})", "abcd"),
                   "unknown dtype"));
  EXPECT_TRUE(
      refused_with(with_header(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", "abcd"),
                   "bytes for its shape"));
  EXPECT_TRUE(refused_with(
      with_header(R"({"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", "abcd"),
      "non-negative"));
  EXPECT_TRUE(refused_with(with_header(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                                       R"("b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}})",
                                       "abc"),
                           "overlaps"));
  EXPECT_TRUE(
      refused_with(with_header(R"({"t":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", "abcd"),
                   "no tensor describes"));
  EXPECT_TRUE(
      refused_with(with_header(R"({"t":{"dtype":"U8","shape":[4294967296,4294967296,4294967296],)"
                               R"("data_offsets":[0,0]}})",
                               ""),
                   "overflowing"));
}

// Mutates a valid file many ways; the reader must accept or refuse each one with an error, never
// crash or read out of bounds (ASan checks that in safetensors_fuzz_test).
TEST(Safetensors, SurvivesMutatedFiles) {
  const std::string original = sample_file();
  std::mt19937_64 rng(42);
  int refused = 0, accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string bytes = original;
    const int mutations = 1 + int(rng() % 4);
    for (int m = 0; m < mutations; ++m) {
      switch (rng() % 5) {
        case 0:
          bytes[rng() % bytes.size()] ^= char(1 << (rng() % 8));
          break;  // bit flip
        case 1:
          bytes.resize(rng() % (bytes.size() + 1));
          break;  // truncate
        case 2:
          if (!bytes.empty()) bytes[rng() % std::min<size_t>(8, bytes.size())] = char(rng());
          break;  // length
        case 3:
          bytes.insert(rng() % (bytes.size() + 1), 1, "{}[]\",:0123456789-e"[rng() % 19]);
          break;
        case 4:
          if (bytes.size() > 8) bytes[8 + rng() % (bytes.size() - 8)] = char(rng() % 128);
          break;
      }
      if (bytes.empty()) break;
    }
    try {
      const auto file = SafetensorsFile::parse(bytes, "mutated");
      for (const auto& entry : file.tensors()) {
        const std::string_view data = file.data(entry);
        volatile char sink = 0;
        for (char c : data) sink ^= c;  // touch every byte the reader hands out
        (void)sink;
      }
      ++accepted;
    } catch (const std::runtime_error&) {
      ++refused;
    }
  }
  EXPECT_GT(refused, 10000);
  EXPECT_GT(accepted, 10);  // some mutations keep the file valid (e.g. in the data section)
}

}  // namespace
}  // namespace electra::model
