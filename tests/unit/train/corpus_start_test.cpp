// The start from the corpus's counts (app/train/corpus_start.h, data/token_counts.h): the counts
// over a hand-checked corpus, PPMI, the randomised SVD against the exact one, the unigram prior,
// and what a fresh model holds after it.
#include <gtest/gtest.h>

#include <ATen/Functions.h>
#include <torch/torch.h>

#include <cmath>

#include "app/train/corpus_start.h"
#include "app/train/optimizer.h"
#include "data/shard_writer.h"
#include "data/token_counts.h"
#include "test_util.h"
#include "unit/data/numbered_corpus.h"

namespace electra::train {
namespace {

using data::vocab;
using testing::TempDir;

// Rows r of write_corpus: [CLS] t(r % 1000) t(r / 1000) [SEP] and four pads; ids 10 + ... .
TEST(TokenCounts, CountsRealTokensAndPairsWithinTheWindow) {
  TempDir dir;
  data::write_corpus(dir.path().string(), {3});
  const data::CountedRows rows{dir.path().string()};
  const data::TokenCounts counts = data::count_tokens(rows, vocab(), true);
  EXPECT_EQ(counts.tokens, 12);
  EXPECT_EQ(counts.rows, 3);
  EXPECT_EQ(counts.counts[2], 3);   // [CLS]
  EXPECT_EQ(counts.counts[3], 3);   // [SEP]
  EXPECT_EQ(counts.counts[10], 4);  // row 0 twice, rows 1 and 2 once
  EXPECT_EQ(counts.counts[11], 1);
  EXPECT_EQ(counts.counts[0], 0);  // padding is not a token
  const auto size = (long long)vocab().size();
  std::vector<int32_t> every(size_t(size), 0);
  for (size_t id = 0; id < every.size(); ++id) every[id] = int32_t(id);
  std::vector<int32_t> pairs(size_t(size * size), 0);
  data::count_cooccurrences(rows, vocab(), true, 2, every, every, pairs.data(), size);
  const auto pair = [&](int a, int b) { return pairs[size_t(a * size + b)]; };
  EXPECT_EQ(pair(2, 10), 4);  // [CLS] beside row 0's two 10s, and 2 places from rows 1, 2's
  EXPECT_EQ(pair(10, 2), 4);
  EXPECT_EQ(pair(10, 10), 2);  // row 0's neighbours, each counted as word and as context
  EXPECT_EQ(pair(11, 10), 1);
  EXPECT_EQ(pair(12, 3), 1);
  EXPECT_EQ(pair(2, 3), 0);  // 3 places apart
  EXPECT_EQ(pair(0, 2), 0);  // padding pairs with nothing
  long long total = 0;
  for (const int32_t n : pairs) total += n;
  EXPECT_EQ(total, 3 * 5 * 2);  // 5 pairs within 2 places in each row, both ways
  // Only the listed rows and columns are counted.
  std::vector<int32_t> row_of(size_t(size), -1), column_of(size_t(size), -1);
  row_of[10] = 0, column_of[2] = 0, column_of[3] = 1;
  std::vector<int32_t> few(2, 0);
  data::count_cooccurrences(rows, vocab(), true, 2, row_of, column_of, few.data(), 2);
  EXPECT_EQ(few, (std::vector<int32_t>{4, 4}));
}

TEST(TokenCounts, ALargeSplitIsSampledAcrossEveryShard) {
  TempDir dir;
  data::write_corpus(dir.path().string(), {300, 170});  // 470 rows of 8 positions
  const data::TokenCounts counts = data::count_tokens({dir.path().string(), 376}, vocab(), true);
  EXPECT_EQ(counts.split_rows, 470);
  EXPECT_EQ(counts.rows, 30 + 17);               // a tenth of each shard
  EXPECT_EQ(counts.counts[10 + 300 % 1000], 1);  // the second shard's first row
  EXPECT_EQ(counts.counts[10 + 30], 0);          // past the first shard's tenth
}

TEST(CorpusStart, PositivePmiOfCounts) {
  const at::Tensor counts = at::tensor({4, 0, 1, 3}, at::kInt).view({2, 2});
  const at::Tensor pmi = positive_pmi(counts);
  // total 8; rows 4 and 4; columns 5 and 3
  EXPECT_NEAR(pmi[0][0].item<double>(), std::log(4.0 * 8 / (4 * 5)), 1e-5);
  EXPECT_EQ(pmi[0][1].item<double>(), 0);  // never together
  EXPECT_EQ(pmi[1][0].item<double>(), 0);  // log(8 / 20) < 0
  EXPECT_NEAR(pmi[1][1].item<double>(), std::log(3.0 * 8 / (4 * 3)), 1e-5);
  const at::Tensor lonely = positive_pmi(at::tensor({0, 0, 2, 1}, at::kInt).view({2, 2}));
  EXPECT_TRUE(lonely.isfinite().all().item<bool>());
  EXPECT_EQ(lonely[0].abs().sum().item<double>(), 0);
}

TEST(CorpusStart, LeadingComponentsMatchTheExactSvd) {
  torch::manual_seed(3);
  // Rank 20 plus noise, with a decaying spectrum, as a PPMI matrix has.
  const at::Tensor scale = at::pow(at::full({20}, 0.8), at::arange(20));
  const at::Tensor matrix =
      (at::randn({300, 20}) * scale).mm(at::randn({20, 120})) + 0.01 * at::randn({300, 120});
  const at::Tensor rows = leading_components(matrix, 8, 7);
  ASSERT_EQ(rows.sizes(), (std::vector<int64_t>{300, 8}));
  const auto [u, s, vh] = at::linalg_svd(matrix, false);
  const at::Tensor exact = u.narrow(1, 0, 8) * s.narrow(0, 0, 8).sqrt();
  // Signs are arbitrary: compare what the rows say about the tokens, their dot products.
  const at::Tensor gram = rows.mm(rows.t()), exact_gram = exact.mm(exact.t());
  EXPECT_LT((gram - exact_gram).norm().item<double>() / exact_gram.norm().item<double>(), 1e-3);
  EXPECT_TRUE(leading_components(matrix, 8, 7).equal(rows));  // seeded
  // More dimensions than the matrix has: the rest are zero.
  const at::Tensor wide = leading_components(matrix.narrow(1, 0, 5), 8, 7);
  EXPECT_EQ(wide.narrow(1, 5, 3).abs().sum().item<double>(), 0);
  EXPECT_GT(wide.narrow(1, 0, 5).abs().sum().item<double>(), 0);
}

// A spectrum as flat around the cut as PPMI's (the quickstart corpus: 74.3 at 61, 72.4 at 70):
// the range's extra directions and power iterations keep the rows' dot products close to the
// exact SVD's (4 iterations with 16 extra directions: 41% off on that corpus).
TEST(CorpusStart, LeadingComponentsOfAFlatSpectrumMatchTheExactSvd) {
  torch::manual_seed(4);
  const int64_t n = 1500, m = 600;
  const at::Tensor u = std::get<0>(at::linalg_qr(at::randn({n, m}), "reduced"));
  const at::Tensor v = std::get<0>(at::linalg_qr(at::randn({m, m}), "reduced"));
  const at::Tensor s = 300.0 / (1.0 + 0.05 * at::arange(m, at::kFloat));  // 94.8 at 63, 92.2 at 70
  const at::Tensor matrix = (u * s).mm(v.t());
  const at::Tensor rows = leading_components(matrix, 64, 11);
  const at::Tensor exact = u.narrow(1, 0, 64) * s.narrow(0, 0, 64).sqrt();
  const at::Tensor gram = rows.mm(rows.t()), exact_gram = exact.mm(exact.t());
  EXPECT_LT((gram - exact_gram).norm().item<double>() / exact_gram.norm().item<double>(), 0.02);
}

TEST(CorpusStart, UnigramPriorSmoothsAndLeavesOutTheSpecialTokens) {
  const at::Tensor prior = unigram_log_prior({5, 0, 3, 2}, {2});  // id 2 never predicted
  // total 5 + 0 + 2 = 7, plus 4 for the smoothing
  EXPECT_NEAR(prior[0].item<double>(), std::log(6.0 / 11), 1e-6);
  EXPECT_NEAR(prior[1].item<double>(), std::log(1.0 / 11), 1e-6);
  EXPECT_NEAR(prior[2].item<double>(), std::log(1.0 / 11), 1e-6);
  EXPECT_NEAR(prior[3].item<double>(), std::log(3.0 / 11), 1e-6);
}

TrainConfig numbered_corpus_config(const std::string& dir) {
  TrainConfig config;
  config.data_dir = dir;
  config.model = model::ModelConfig::load("tiny");
  config.model.set("vocab_size=" + std::to_string(vocab().size()));
  config.word_rows_init = "ppmi", config.output_bias_init = "unigram";
  return config;
}

TEST(CorpusStart, AFreshModelGetsTheCountedRowsAndTheBias) {
  TempDir dir;
  data::write_corpus(dir.path().string(), {300, 170});
  TrainConfig config = numbered_corpus_config(dir.path().string());
  config.model.share_embeddings = false;  // both tables
  const CorpusStart start = corpus_start(config, vocab(), true);
  EXPECT_EQ(start.record["tokens"].get<long long>(), 470 * 4);
  // [CLS], [SEP] and t0 .. t469
  EXPECT_EQ(start.record["distinct_tokens"].get<long long>(), 472);
  EXPECT_EQ(start.record["contexts"].get<long long>(), 472);
  model::ElectraModel model(config.model);
  const std::vector<model::Embeddings> tables{model->embeddings, model->generator_embeddings};
  std::vector<at::Tensor> before;
  for (const auto& embeddings : tables)
    before.push_back(embeddings->word_embeddings->weight.clone());
  apply_corpus_start(start, *model);
  for (size_t t = 0; t < tables.size(); ++t) {
    const at::Tensor table = tables[t]->word_embeddings->weight;
    const at::Tensor seen = start.seen.nonzero().squeeze(1);
    EXPECT_NEAR(table.index_select(0, seen).std(false).item<double>(),
                config.model.initializer_range, 1e-4);
    EXPECT_TRUE(table.index_select(0, seen).equal(start.word_rows.index_select(0, seen)));
    EXPECT_TRUE(table[1000].equal(before[t][1000]));    // t995 is not in the corpus: random
    EXPECT_EQ(table[0].abs().sum().item<double>(), 0);  // [PAD]
  }
  const at::Tensor bias = model->generator->output_bias;
  // t0: in every row's third place and row 0's second; 940 tokens besides [CLS] and [SEP]
  EXPECT_NEAR(bias[10].item<double>(), std::log((471.0 + 1) / (940 + 2005)), 1e-5);
  EXPECT_NEAR(bias[2].item<double>(), std::log(1.0 / (940 + 2005)), 1e-5);  // [CLS]
  // Rows of tokens that share their contexts lie close: t5 and t6 each sit once between [CLS]
  // and t0, two places before [SEP].
  const at::Tensor rows = start.word_rows;
  const auto cosine = [&](int a, int b) {
    return at::cosine_similarity(rows[a], rows[b], 0).item<double>();
  };
  EXPECT_GT(cosine(10 + 5, 10 + 6), cosine(10 + 5, 3));
}

// A token seen, but never beside a context token: no count-based row; it keeps its random row, and
// the scale comes from the tokens that have one.
TEST(CorpusStart, ATokenWithoutAContextKeepsItsRandomRow) {
  TempDir dir;
  data::Manifest manifest;
  manifest.vocab_sha256 = vocab().sha256(), manifest.vocab_size = (long long)vocab().size();
  manifest.max_seq_length = 8;
  data::ShardAttributes attributes;
  attributes.vocab_sha256 = manifest.vocab_sha256, attributes.vocab_size = manifest.vocab_size;
  attributes.max_seq_length = 8, attributes.split = "train";
  data::ShardWriter writer(dir / "train-00000.h5", attributes, 64);
  for (int r = 0; r < 50; ++r) {  // t0 t1 t2 t0 t3: t0 and t1 are the two contexts
    writer.append(
        {{10, 11, 12, 10, 13, 0, 0, 0}, {1, 1, 1, 1, 1, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0}});
  }
  writer.append({{20, 21, 0, 0, 0, 0, 0, 0}, {1, 1, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0}});
  const auto summary = writer.finish();
  manifest.shards.push_back(
      {"train-00000.h5", "train", summary.num_examples, summary.num_tokens, summary.sha256});
  manifest.write(dir.path().string());
  TrainConfig config = numbered_corpus_config(dir.path().string());
  CorpusStartSettings settings;
  settings.contexts = 2;
  const CorpusStart start = corpus_start(config, vocab(), true, at::kCPU, settings);
  EXPECT_EQ(start.record["distinct_tokens"].get<long long>(), 6);
  EXPECT_FALSE(start.seen[20].item<bool>());  // t10, t11: only beside each other
  EXPECT_FALSE(start.seen[21].item<bool>());
  EXPECT_TRUE(start.seen[11].item<bool>());
  const at::Tensor given = start.word_rows.index_select(0, start.seen.nonzero().squeeze(1));
  EXPECT_NEAR(given.std(false).item<double>(), config.model.initializer_range, 1e-5);
  model::ElectraModel model(config.model);
  const at::Tensor before = model->embeddings->word_embeddings->weight.clone();
  apply_corpus_start(start, *model);
  EXPECT_TRUE(model->embeddings->word_embeddings->weight[20].equal(before[20]));
  EXPECT_FALSE(model->embeddings->word_embeddings->weight[11].equal(before[11]));
}

TEST(CorpusStart, OnlyWhatIsAskedForAndTheSameOnEveryRankOfOne) {
  TempDir dir;
  data::write_corpus(dir.path().string(), {300, 170});
  TrainConfig config = numbered_corpus_config(dir.path().string());
  config.word_rows_init = "random";
  auto world = dist::make_single_process_communicator();
  const CorpusStart start = shared_corpus_start(*world, config, vocab(), true);
  EXPECT_FALSE(start.word_rows.defined());
  ASSERT_TRUE(start.output_bias.defined());
  EXPECT_TRUE(start.output_bias.equal(corpus_start(config, vocab(), true).output_bias));
  model::ElectraModel model(config.model);
  const at::Tensor before = model->embeddings->word_embeddings->weight.clone();
  apply_corpus_start(start, *model);
  EXPECT_TRUE(model->embeddings->word_embeddings->weight.equal(before));
  EXPECT_NE(describe(start).find("output bias at the log unigram prior"), std::string::npos);
}

TEST(CorpusStart, AnEmptyCorpusIsNamed) {
  TempDir dir;
  data::write_corpus(dir.path().string(), {0});
  const TrainConfig config = numbered_corpus_config(dir.path().string());
  auto world = dist::make_single_process_communicator();
  try {
    shared_corpus_start(*world, config, vocab(), true);
    FAIL() << "no error";
  } catch (const std::exception& e) {
    EXPECT_NE(
        std::string(e.what()).find(dir.path().string() + ": its training rows hold no tokens"),
        std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace electra::train
