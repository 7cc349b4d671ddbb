#include <gtest/gtest.h>

#include <numeric>
#include <set>

#include "data/example_builder.h"

namespace electra::data {
namespace {

const SpecialTokenIds kSpecial{0, 100, 101, 102, 103};

// Lines of `count` tokens with consecutive ids starting at `next`.
std::vector<int32_t> line(int32_t& next, int count) {
  std::vector<int32_t> ids(static_cast<size_t>(count));
  std::iota(ids.begin(), ids.end(), next);
  next += count;
  return ids;
}

// The A and B segments of an example, checked for the [CLS] A [SEP] (B [SEP]) 0... layout.
void segments(const Example& example, std::vector<int32_t>& a, std::vector<int32_t>& b) {
  const size_t real = example.real_tokens();
  ASSERT_GE(real, 2u);
  ASSERT_EQ(example.input_ids[0], kSpecial.cls);
  ASSERT_EQ(example.input_ids[real - 1], kSpecial.sep);
  size_t first_sep = 1;
  while (example.input_ids[first_sep] != kSpecial.sep) ++first_sep;
  for (size_t i = 0; i < example.input_ids.size(); ++i) {
    const bool is_real = i < real;
    EXPECT_EQ(example.input_mask[i], is_real ? 1 : 0);
    EXPECT_EQ(example.segment_ids[i], is_real && i > first_sep ? 1 : 0) << "position " << i;
    if (!is_real) EXPECT_EQ(example.input_ids[i], 0);
  }
  a.assign(example.input_ids.begin() + 1, example.input_ids.begin() + long(first_sep));
  if (first_sep + 1 < real) {
    b.assign(example.input_ids.begin() + long(first_sep) + 1,
             example.input_ids.begin() + long(real) - 1);
  } else {
    b.clear();
  }
}

TEST(ExampleBuilder, SegmentsAreConsecutiveRunsOfTheTokenStream) {
  // Token ids are unique and increasing: each segment must keep the stream's order and start
  // where a line starts, examples must not overlap, and only the overflow of an example (the
  // reference truncates A to L-2 and B to L-len(A)-3) may be lost. (A need not be one run: as in
  // the reference, a short sentence after one that went to B can still join A.)
  ExampleBuilder builder(kSpecial, 64, 7);
  int32_t next = 1000;
  std::set<int32_t> line_starts;
  long long stream_tokens = 0, kept_tokens = 0;
  int32_t previous_end = 0;
  auto check = [&](const Example& example) {
    std::vector<int32_t> a, b;
    segments(example, a, b);
    ASSERT_FALSE(a.empty());
    EXPECT_TRUE(line_starts.count(a.front())) << "an example starts inside a line";
    EXPECT_GT(a.front(), previous_end);
    for (size_t i = 1; i < a.size(); ++i) ASSERT_GT(a[i], a[i - 1]);
    for (size_t i = 1; i < b.size(); ++i) ASSERT_GT(b[i], b[i - 1]);
    if (!b.empty()) EXPECT_TRUE(line_starts.count(b.front())) << "B starts inside a line";
    if (!b.empty()) EXPECT_GT(b.front(), a.front());
    previous_end = std::max(a.back(), b.empty() ? a.back() : b.back());
    kept_tokens += (long long)(a.size() + b.size());
  };
  for (int document = 0; document < 30; ++document) {
    for (int i = 0; i < 20; ++i) {
      line_starts.insert(next);
      auto ids = line(next, 1 + (i * 7 + document) % 9);
      stream_tokens += (long long)ids.size();
      if (auto example = builder.add_line(ids, false)) check(*example);
    }
    if (auto example = builder.add_line({}, true)) check(*example);
  }
  if (auto example = builder.finish()) check(*example);
  EXPECT_GT(double(kept_tokens) / double(stream_tokens), 0.85);
  EXPECT_LE(kept_tokens, stream_tokens);
}

TEST(ExampleBuilder, SegmentAndTargetLengthFrequenciesFollowTheReference) {
  ExampleBuilder builder(kSpecial, 128, 11);
  int32_t next = 1000;
  int single = 0, total = 0, short_examples = 0;
  for (int i = 0; i < 200000; ++i) {
    // 10-token sentences: with target (128-3)/2 = 62, a two-segment example always has B.
    if (auto example = builder.add_line(line(next, 10), false)) {
      std::vector<int32_t> a, b;
      segments(*example, a, b);
      ++total;
      single += b.empty();
      short_examples += example->real_tokens() < 100;
    }
  }
  ASSERT_GT(total, 10000);
  EXPECT_NEAR(double(single) / total, 0.10, 0.01);                     // P(one segment) = 0.1
  EXPECT_NEAR(double(short_examples) / total, 0.05 * 95 / 124, 0.01);  // randint(5, 128) < 100
}

TEST(ExampleBuilder, TruncatesLongLinesToTheSequenceLength) {
  ExampleBuilder builder(kSpecial, 16, 3);
  int32_t next = 1000;
  auto example = builder.add_line(line(next, 40), false);
  ASSERT_TRUE(example);
  std::vector<int32_t> a, b;
  segments(*example, a, b);
  EXPECT_EQ(a.size(), 14u);  // L - 2: the one sentence fills A
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(example->real_tokens(), 16u);
}

TEST(ExampleBuilder, IsDeterministicForASeed) {
  auto run = [](uint64_t seed) {
    ExampleBuilder builder(kSpecial, 32, seed);
    int32_t next = 1000;
    std::vector<Example> out;
    for (int i = 0; i < 500; ++i) {
      if (auto e = builder.add_line(line(next, 1 + i % 11), i % 17 == 16)) out.push_back(*e);
    }
    return out;
  };
  EXPECT_EQ(run(5), run(5));
  EXPECT_NE(run(5), run(6));
}

}  // namespace
}  // namespace electra::data
