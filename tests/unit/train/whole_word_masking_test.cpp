// Whole-word masking on hand-made rows: a chosen word has every piece chosen, none partly; the
// count is DESIGN.md section 3's in tokens and a word that would overflow it is skipped;
// [CLS]/[SEP]/padding are never chosen; a word keeps its token (all pieces alike) at the 15%
// rate; the choice depends only on the row's key and tokens; the device masks what was chosen.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <map>
#include <set>

#include "app/train/whole_word_masking.h"

namespace electra::train {
namespace {

constexpr int32_t kCls = 101, kSep = 102, kMask = 103;
constexpr int64_t kLength = 64;

// Ids 1000..1999 start a word, 2000..2999 are ## pieces.
std::vector<uint8_t> continuation_table() {
  std::vector<uint8_t> table(3000, 0);
  for (int id = 2000; id < 3000; ++id) table[size_t(id)] = 1;
  return table;
}

struct Row {
  std::vector<int32_t> ids;
  std::vector<uint8_t> mask;
  std::vector<int> word;  // [position] the word it belongs to, -1 for CLS/SEP/padding
};

// [CLS] then words of the given numbers of pieces, [SEP], padding to kLength.
Row row_of_words(const std::vector<int>& pieces) {
  Row row;
  row.ids.push_back(kCls), row.word.push_back(-1);
  int next = 0;
  for (size_t w = 0; w < pieces.size(); ++w) {
    for (int p = 0; p < pieces[w]; ++p) {
      row.ids.push_back(p == 0 ? 1000 + next++ % 1000 : 2000 + next++ % 1000);
      row.word.push_back(int(w));
    }
  }
  row.ids.push_back(kSep), row.word.push_back(-1);
  row.mask.assign(row.ids.size(), 1);
  while (int64_t(row.ids.size()) < kLength) {
    row.ids.push_back(0), row.mask.push_back(0), row.word.push_back(-1);
  }
  return row;
}

MaskingOptions options() {
  MaskingOptions o;
  o.max_predictions = max_predictions_per_seq(0.15, kLength);  // 9
  o.cls_id = kCls, o.sep_id = kSep, o.mask_id = kMask;
  return o;
}

const std::vector<int> kMixedWords = {1, 3, 2, 1, 4, 1, 2, 1, 1, 3, 1, 2, 1, 1, 5,
                                      1, 2, 1, 1, 1, 2, 1, 3, 1, 1, 2, 1, 1, 1, 2};

TEST(WholeWordMasking, ChosenWordsAreWholeAndTheCountHolds) {
  const Row row = row_of_words(kMixedWords);
  const auto table = continuation_table();
  const int64_t count = prediction_count(row.ids.data(), row.mask.data(), kLength, options());
  const int64_t real = std::count(row.mask.begin(), row.mask.end(), 1);
  ASSERT_EQ(real, 52);
  ASSERT_EQ(count, 8);           // round(52 real tokens x 0.15) in tokens, within P = 9
  std::map<int, int> pieces_of;  // word -> its pieces
  for (int w : row.word) pieces_of[w] += w >= 0;
  long long full = 0;
  for (uint64_t key = 1; key <= 500; ++key) {
    const WordChoice choice =
        choose_whole_words(row.ids.data(), row.mask.data(), kLength, table, count, options(), key);
    ASSERT_LE(int64_t(choice.positions.size()), count) << key;
    full += int64_t(choice.positions.size()) == count;
    std::map<int, int> chosen_pieces;
    std::set<int32_t> distinct;
    for (int32_t position : choice.positions) {
      ASSERT_GE(row.word[size_t(position)], 0) << "CLS, SEP or padding chosen, key " << key;
      ++chosen_pieces[row.word[size_t(position)]];
      distinct.insert(position);
    }
    EXPECT_EQ(distinct.size(), choice.positions.size()) << "a position twice, key " << key;
    for (const auto& [word, pieces] : chosen_pieces) {
      EXPECT_EQ(pieces, pieces_of[word]) << "word " << word << " partly masked, key " << key;
    }
    // A word's pieces share the keep decision.
    for (size_t i = 1; i < choice.positions.size(); ++i) {
      if (row.word[size_t(choice.positions[i])] == row.word[size_t(choice.positions[i - 1])]) {
        EXPECT_EQ(choice.keep[i], choice.keep[i - 1]) << key;
      }
    }
  }
  // Many one-piece words: the greedy fill reaches the count nearly always.
  EXPECT_GT(full, 450);
}

TEST(WholeWordMasking, AWordThatWouldOverflowTheCountIsSkippedAndLaterOnesStillFit) {
  // One word of 3 pieces and two of 1: with a count of 2 the long word never fits.
  const Row row = row_of_words({3, 1, 1});
  const auto table = continuation_table();
  for (uint64_t key = 1; key <= 200; ++key) {
    const WordChoice choice =
        choose_whole_words(row.ids.data(), row.mask.data(), kLength, table, 2, options(), key);
    ASSERT_EQ(choice.positions.size(), 2u) << key;
    for (int32_t position : choice.positions) EXPECT_NE(row.word[size_t(position)], 0) << key;
  }
  // With a count of 1 in a row of one 3-piece word, nothing fits: no position is chosen.
  const Row long_word = row_of_words({3});
  EXPECT_TRUE(choose_whole_words(long_word.ids.data(), long_word.mask.data(), kLength, table, 1,
                                 options(), 7)
                  .positions.empty());
}

TEST(WholeWordMasking, OneWordInSevenIsKeptUnmaskedAsTheTokenRule) {
  const Row row = row_of_words(kMixedWords);
  const auto table = continuation_table();
  long long words = 0, kept = 0;
  for (uint64_t key = 1; key <= 4000; ++key) {
    const WordChoice choice =
        choose_whole_words(row.ids.data(), row.mask.data(), kLength, table, 9, options(), key);
    for (size_t i = 0; i < choice.positions.size(); ++i) {
      const bool first_piece = i == 0 || row.word[size_t(choice.positions[i])] !=
                                             row.word[size_t(choice.positions[i - 1])];
      if (!first_piece) continue;
      ++words, kept += choice.keep[i];
    }
  }
  const double rate = double(kept) / double(words);
  EXPECT_NEAR(rate, 0.15, 0.01) << kept << " of " << words;
}

TEST(WholeWordMasking, ARowsChoiceDependsOnlyOnItsKeyAndTokens) {
  const Row a = row_of_words(kMixedWords), b = row_of_words({2, 2, 1, 1, 3});
  const auto table = continuation_table();
  std::vector<int32_t> ids(a.ids);
  ids.insert(ids.end(), b.ids.begin(), b.ids.end());
  std::vector<uint8_t> mask(a.mask);
  mask.insert(mask.end(), b.mask.begin(), b.mask.end());
  const BatchWordChoice both =
      choose_whole_words(ids.data(), mask.data(), 2, kLength, table, options(), {11, 22});
  const BatchWordChoice alone =
      choose_whole_words(b.ids.data(), b.mask.data(), 1, kLength, table, options(), {22});
  const int64_t p = options().max_predictions;
  EXPECT_EQ(both.counts[1], alone.counts[0]);
  EXPECT_EQ(std::vector<int32_t>(both.positions.begin() + p, both.positions.end()),
            alone.positions);
  EXPECT_EQ(std::vector<uint8_t>(both.keep.begin() + p, both.keep.end()), alone.keep);
  // Another key, another choice (almost surely, over a few keys).
  bool differs = false;
  for (uint64_t key = 23; key < 30 && !differs; ++key) {
    differs = choose_whole_words(b.ids.data(), b.mask.data(), 1, kLength, table, options(), {key})
                  .positions != alone.positions;
  }
  EXPECT_TRUE(differs);
}

TEST(WholeWordMasking, TheDeviceMasksExactlyTheChosenPiecesInStaticShapes) {
  const Row a = row_of_words(kMixedWords), b = row_of_words({2, 1, 3, 1});
  const auto table = continuation_table();
  std::vector<int32_t> ids(a.ids);
  ids.insert(ids.end(), b.ids.begin(), b.ids.end());
  std::vector<uint8_t> mask(a.mask);
  mask.insert(mask.end(), b.mask.begin(), b.mask.end());
  const BatchWordChoice words =
      choose_whole_words(ids.data(), mask.data(), 2, kLength, table, options(), {5, 6});
  const int64_t p = options().max_predictions;
  const at::Tensor input_ids = at::tensor(ids, at::kInt).view({2, kLength}).to(at::kLong);
  const at::Tensor input_mask = at::tensor(std::vector<int32_t>(mask.begin(), mask.end()), at::kInt)
                                    .view({2, kLength})
                                    .to(at::kLong);
  const at::Tensor positions = at::tensor(words.positions, at::kInt).view({2, p}).to(at::kLong);
  const at::Tensor keep =
      at::tensor(std::vector<int32_t>(words.keep.begin(), words.keep.end()), at::kInt)
          .view({2, p})
          .to(at::kBool);
  const at::Tensor counts = at::tensor(words.counts, at::kInt).to(at::kLong);
  const MaskedBatch masked =
      mask_batch(input_ids, input_mask, options(), RowRandom(std::vector<uint64_t>{5, 6}), counts,
                 positions, keep);
  ASSERT_EQ(masked.positions.sizes(), (at::IntArrayRef{2, p}));
  for (int64_t r = 0; r < 2; ++r) {
    EXPECT_EQ(masked.weights[r].sum().item<double>(), double(words.counts[size_t(r)]));
    std::set<int64_t> chosen;
    for (int64_t slot = 0; slot < words.counts[size_t(r)]; ++slot) {
      const int64_t position = words.positions[size_t(r * p + slot)];
      chosen.insert(position);
      EXPECT_EQ(masked.positions[r][slot].item<int64_t>(), position);
      EXPECT_EQ(masked.targets[r][slot].item<int64_t>(), ids[size_t(r * kLength + position)]);
      const int64_t expected =
          words.keep[size_t(r * p + slot)] ? ids[size_t(r * kLength + position)] : kMask;
      EXPECT_EQ(masked.generator_input[r][position].item<int64_t>(), expected);
    }
    for (int64_t i = 0; i < kLength; ++i) {  // everything else untouched
      if (!chosen.count(i)) {
        EXPECT_EQ(masked.generator_input[r][i].item<int64_t>(), ids[size_t(r * kLength + i)]);
      }
    }
  }
}

}  // namespace
}  // namespace electra::train
