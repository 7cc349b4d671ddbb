// Run under mpirun -np 2: the trainer across ranks. With dropout off, 2 ranks x batch b give the
// losses and parameters of 1 rank x batch 2b; a run stopped and resumed gives exactly (bit for
// bit) the losses and parameters of the uninterrupted run, on 1 and on 2 ranks; every rank ends
// with the same parameters; evaluation metrics do not depend on the number of ranks.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "app/model/hf_format.h"
#include "app/train/checkpoint_files.h"
#include "app/train/init_source.h"
#include "app/train/trainer.h"
#include "data/seed_hash.h"
#include "data/shard_writer.h"
#include "dist/communicator.h"

namespace electra::train {
namespace {

namespace fs = std::filesystem;
const std::string kVocab = ELECTRA_DATA_DIR "/vocab/bert-base-uncased-vocab.txt";
// The HuggingFace reference pair (its vocabulary is BERT uncased, the corpus's).
const std::string kHfPair = ELECTRA_DATA_DIR "/../tests/fixtures/hf-electra-tiny";

dist::Communicator& world() {
  static std::unique_ptr<dist::Communicator> communicator = dist::make_world_communicator();
  return *communicator;
}

// A folder made by rank 0 and known to every rank; removed by rank 0 at the end.
class SharedDir {
 public:
  SharedDir() {
    std::string path;
    if (world().is_root()) {
      path = (fs::temp_directory_path() / "electra-pretrain-XXXXXX").string();
      if (!mkdtemp(path.data())) throw std::runtime_error("mkdtemp failed");
    }
    path_ = world().broadcast_from_root(path);
  }
  ~SharedDir() {
    world().barrier();
    std::error_code ignored;
    if (world().is_root()) fs::remove_all(path_, ignored);
  }
  std::string operator/(const std::string& name) const { return (fs::path(path_) / name).string(); }

 private:
  std::string path_;
};

// Rank 0 writes a corpus of random sentences (sequence length 32): 3 train shards, 1 validation.
void write_corpus(const std::string& dir) {
  if (world().is_root()) {
    const data::Vocabulary vocab = data::Vocabulary::load(kVocab);
    data::Manifest manifest;
    manifest.vocab_sha256 = vocab.sha256();
    manifest.vocab_size = (long long)vocab.size();
    manifest.max_seq_length = 32;
    std::mt19937 rng(5);
    fs::create_directories(dir);
    for (auto [name, split, rows] : {std::tuple{"train-00000.h5", "train", 70},
                                     {"train-00001.h5", "train", 50},
                                     {"train-00002.h5", "train", 40},
                                     {"validation-00000.h5", "validation", 30}}) {
      data::ShardAttributes attributes;
      attributes.vocab_sha256 = vocab.sha256();
      attributes.vocab_size = (long long)vocab.size();
      attributes.max_seq_length = 32;
      attributes.split = split;
      data::ShardWriter writer(dir + "/" + name, attributes, 16);
      for (int r = 0; r < rows; ++r) {
        data::Example example;
        const int length = 12 + int(rng() % 21);  // 12..32 real tokens
        for (int i = 0; i < 32; ++i) {
          const bool real = i < length;
          int32_t id = real ? int32_t(2000 + rng() % 3000) : 0;
          if (i == 0) id = 101;
          if (i == length - 1) id = 102;
          example.input_ids.push_back(id);
          example.input_mask.push_back(real);
          example.segment_ids.push_back(0);
        }
        writer.append(example);
      }
      const auto summary = writer.finish();
      manifest.shards.push_back(
          {name, split, summary.num_examples, summary.num_tokens, summary.sha256});
    }
    manifest.write(dir);
  }
  world().barrier();
}

TrainConfig tiny_config(const std::string& data, const std::string& out) {
  TrainConfig c;
  c.model = model::ModelConfig::load("tiny");
  c.data_dir = data, c.out_dir = out, c.vocab_path = kVocab;
  c.train_steps = 6, c.warmup_steps = 2, c.batch_size = 4, c.learning_rate = 1e-3;
  c.log_every = 1, c.eval_every = 0, c.save_every = 0, c.eval_examples = 0;
  c.device = "cpu";  // several ranks: on the CPU even where one GPU is (NCCL cannot share it)
  return c;
}

void train(TrainConfig config, dist::Communicator& communicator) {
  Trainer trainer(std::move(config), communicator, ResumeMode::kIfPresent);
  trainer.run();
}

std::vector<nlohmann::json> records(const std::string& out, const std::string& kind) {
  std::vector<nlohmann::json> selected;
  for (auto& record : read_metrics(out + "/metrics.jsonl")) {
    if (record["kind"] == kind) selected.push_back(record);
  }
  return selected;
}

double max_parameter_difference(const std::string& run_a, const std::string& run_b) {
  auto a = read_model(resolve_checkpoint(run_a)), b = read_model(resolve_checkpoint(run_b));
  double most = 0;
  const auto b_parameters = b->named_parameters();
  for (const auto& item : a->named_parameters()) {
    most = std::max(most, (item.value() - b_parameters[item.key()]).abs().max().item<double>());
  }
  return most;
}

TEST(PretrainRanks, TwoRanksOfBatchBTrainAsOneRankOfBatch2B) {
  ASSERT_EQ(world().size(), 2) << "run under mpirun -np 2";
  SharedDir dir;
  write_corpus(dir / "data");
  TrainConfig config = tiny_config(dir / "data", dir / "two");
  config.model.set("hidden_dropout_prob=0");
  config.model.set("attention_probs_dropout_prob=0");
  config.eval_every = 3;
  train(config, world());
  if (world().is_root()) {
    auto alone = dist::make_single_process_communicator();
    TrainConfig one = config;
    one.out_dir = dir / "one", one.batch_size = 8;
    train(one, *alone);
    const auto two_ranks = records(dir / "two", "train"), one_rank = records(dir / "one", "train");
    ASSERT_EQ(two_ranks.size(), 6u);
    ASSERT_EQ(one_rank.size(), 6u);
    for (size_t i = 0; i < 6; ++i) {
      for (const char* field : {"loss", "mlm_loss", "disc_loss", "grad_norm"}) {
        EXPECT_NEAR(two_ranks[i][field].get<double>(), one_rank[i][field].get<double>(), 1e-5)
            << field << " at step " << i + 1;
      }
    }
    const double difference = max_parameter_difference(dir / "two", dir / "one");
    std::printf("2 ranks x 4 vs 1 rank x 8: max parameter difference %.3g\n", difference);
    EXPECT_LT(difference, 1e-5);
    // Evaluation sums over ranks: the same metrics from 2 ranks as from 1.
    const auto eval_two = records(dir / "two", "eval"), eval_one = records(dir / "one", "eval");
    ASSERT_EQ(eval_two.size(), 2u);
    for (const char* field : {"mlm_loss", "disc_loss", "disc_accuracy", "replaced_fraction"}) {
      EXPECT_NEAR(eval_two[1][field].get<double>(), eval_one[1][field].get<double>(), 1e-5)
          << field;
    }
    // AUC comes from a histogram: batches of another size change the logits in the last bits,
    // enough to move a few tokens of an untrained model's tight cluster into the next bin.
    EXPECT_NEAR(eval_two[1]["disc_auc"].get<double>(), eval_one[1]["disc_auc"].get<double>(), 2e-3);
    EXPECT_EQ(eval_two[1]["examples"], 30);
  }
}

TEST(PretrainRanks, GradientAccumulationTrainsAsTheWholeBatch) {
  SharedDir dir;
  write_corpus(dir / "data");
  if (!world().is_root()) return;
  auto alone = dist::make_single_process_communicator();
  TrainConfig whole = tiny_config(dir / "data", dir / "whole");
  whole.model.set("hidden_dropout_prob=0");
  whole.model.set("attention_probs_dropout_prob=0");
  whole.batch_size = 8;
  train(whole, *alone);
  TrainConfig accumulated = whole;
  accumulated.out_dir = dir / "accumulated", accumulated.batch_size = 4, accumulated.grad_accum = 2;
  train(accumulated, *alone);
  const auto a = records(whole.out_dir, "train"), b = records(accumulated.out_dir, "train");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_NEAR(a[i]["loss"].get<double>(), b[i]["loss"].get<double>(), 1e-5) << "step " << i + 1;
  }
  EXPECT_LT(max_parameter_difference(whole.out_dir, accumulated.out_dir), 1e-5);
}

// Trains 2N steps at once and N + N with a stop and a resume in another directory; dropout on.
void expect_exact_resume(dist::Communicator& communicator, const SharedDir& dir,
                         const std::string& name, bool whole_word_masking = false) {
  TrainConfig whole = tiny_config(dir / "data", dir / (name + "-whole"));
  whole.whole_word_masking = whole_word_masking;
  train(whole, communicator);
  TrainConfig first = whole;
  first.out_dir = dir / (name + "-resumed"), first.stop_at = 3;
  train(first, communicator);
  ASSERT_TRUE(fs::exists(checkpoint_path(first.out_dir, 3) + "/COMPLETE"));
  TrainConfig second = first;
  second.stop_at = 0;
  Trainer resumed(second, communicator, ResumeMode::kRequired);
  EXPECT_EQ(resumed.position().step, 3);
  resumed.run();
  if (!communicator.is_root()) return;
  const auto a = records(whole.out_dir, "train"), b = records(first.out_dir, "train");
  ASSERT_EQ(a.size(), 6u);
  ASSERT_EQ(b.size(), 6u);  // steps 4..6 of the first run are not duplicated
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(a[i]["step"], b[i]["step"]);
    for (const char* field : {"loss", "mlm_loss", "disc_loss", "grad_norm", "lr"}) {
      EXPECT_EQ(a[i][field].get<double>(), b[i][field].get<double>()) << field << " step " << i + 1;
    }
  }
  EXPECT_EQ(max_parameter_difference(whole.out_dir, first.out_dir), 0.0);
}

TEST(PretrainRanks, StopAndResumeIsBitExactOnTwoRanks) {
  SharedDir dir;
  write_corpus(dir / "data");
  expect_exact_resume(world(), dir, "two");
}

TEST(PretrainRanks, StopAndResumeIsBitExactOnTwoRanksWithWholeWordMasking) {
  SharedDir dir;
  write_corpus(dir / "data");
  expect_exact_resume(world(), dir, "two-wwm", /*whole_word_masking=*/true);
}

TEST(PretrainRanks, WholeWordMaskingOnTwoRanksOfBatchBTrainsAsOneRankOfBatch2B) {
  SharedDir dir;
  write_corpus(dir / "data");
  TrainConfig config = tiny_config(dir / "data", dir / "two");
  config.whole_word_masking = true;
  config.model.set("hidden_dropout_prob=0");
  config.model.set("attention_probs_dropout_prob=0");
  train(config, world());
  if (!world().is_root()) return;
  auto alone = dist::make_single_process_communicator();
  TrainConfig one = config;
  one.out_dir = dir / "one", one.batch_size = 8;
  train(one, *alone);
  TrainConfig tokens = one;  // token masking: other positions, other losses
  tokens.out_dir = dir / "tokens", tokens.whole_word_masking = false;
  train(tokens, *alone);
  const auto a = records(dir / "two", "train"), b = records(dir / "one", "train"),
             c = records(dir / "tokens", "train");
  ASSERT_EQ(a.size(), 6u);
  ASSERT_EQ(b.size(), 6u);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_NEAR(a[i]["loss"].get<double>(), b[i]["loss"].get<double>(), 1e-5) << i + 1;
  }
  EXPECT_NE(b[0]["mlm_loss"].get<double>(), c[0]["mlm_loss"].get<double>());
}

TEST(PretrainRanks, StopAndResumeIsBitExactOnOneRank) {
  SharedDir dir;
  write_corpus(dir / "data");
  if (world().is_root()) {
    auto alone = dist::make_single_process_communicator();
    expect_exact_resume(*alone, dir, "one");
  }
}

TEST(PretrainRanks, EveryRankEndsWithTheSameParametersAndTheNewestCheckpointsAreKept) {
  SharedDir dir;
  write_corpus(dir / "data");
  TrainConfig config = tiny_config(dir / "data", dir / "run");
  config.save_every = 2, config.keep_checkpoints = 2;
  Trainer trainer(config, world(), ResumeMode::kIfPresent);
  trainer.run();
  if (world().is_root()) {
    EXPECT_FALSE(fs::exists(checkpoint_path(config.out_dir, 2)));
    for (long long step : {4, 6}) {
      EXPECT_TRUE(fs::exists(checkpoint_path(config.out_dir, step) + "/COMPLETE")) << step;
      for (int rank = 0; rank < world().size(); ++rank) {
        EXPECT_TRUE(fs::exists(checkpoint_path(config.out_dir, step) + "/rank-0000" +
                               std::to_string(rank) + ".json"));
      }
    }
  }
  // Sum over ranks of (mine - rank 0's) must be zero: compare through a float all-reduce.
  for (const auto& p : trainer.model().parameters()) {
    at::Tensor mine = p.detach().to(at::kFloat).contiguous().clone();
    at::Tensor sum = mine.clone();
    world().all_reduce_sum(sum.data_ptr<float>(), size_t(sum.numel()));
    EXPECT_TRUE(sum.equal(mine * float(world().size())));
  }
}

// --word-rows-init ppmi --output-bias-init unigram: rank 0 counts, every rank starts from the
// same weights, and they are the ones one process starts from.
TEST(PretrainRanks, TheStartFromTheCorpusCountsIsTheSameOnEveryRankAndForOneProcess) {
  SharedDir dir;
  write_corpus(dir / "data");
  TrainConfig config = tiny_config(dir / "data", dir / "run");
  config.word_rows_init = "ppmi", config.output_bias_init = "unigram";
  Trainer trainer(config, world(), ResumeMode::kIfPresent);
  trainer.start_from_corpus_counts();
  const auto parameters = trainer.model().named_parameters();
  for (const auto& item : parameters) {
    at::Tensor mine = item.value().detach().to(at::kFloat).contiguous().clone();
    at::Tensor sum = mine.clone();
    world().all_reduce_sum(sum.data_ptr<float>(), size_t(sum.numel()));
    EXPECT_TRUE(sum.equal(mine * float(world().size()))) << item.key();
  }
  if (!world().is_root()) return;
  auto alone = dist::make_single_process_communicator();
  config.out_dir = dir / "alone";
  Trainer one(config, *alone, ResumeMode::kIfPresent);
  one.start_from_corpus_counts();
  const auto one_parameters = one.model().named_parameters();
  for (const char* name : {"embeddings.word_embeddings.weight", "generator.output_bias"}) {
    EXPECT_TRUE(parameters[name].equal(one_parameters[name])) << name;
  }
  // Not the paper's start: the bias is the prior, the rows of the counted tokens are new.
  EXPECT_LT(parameters["generator.output_bias"].max().item<double>(), -1);
  TrainConfig paper = config;
  paper.out_dir = dir / "paper", paper.word_rows_init = "random", paper.output_bias_init = "zero";
  Trainer fresh(paper, *alone, ResumeMode::kIfPresent);
  const at::Tensor random_rows =
      fresh.model().named_parameters()["embeddings.word_embeddings.weight"];
  EXPECT_FALSE(
      random_rows[101].equal(parameters["embeddings.word_embeddings.weight"][101]));  // [CLS]
  EXPECT_TRUE(random_rows[1000].equal(parameters["embeddings.word_embeddings.weight"][1000]));
}

TEST(PretrainRanks, TheReplicaCheckPassesAndCatchesARankThatDrifts) {
  SharedDir dir;
  write_corpus(dir / "data");
  TrainConfig config = tiny_config(dir / "data", dir / "run");
  config.check_replicas_every = 1;
  EXPECT_NO_THROW(train(config, world()));
  // Rank 1's parameters drift after step 3: the check at step 3 stops every rank.
  config.out_dir = dir / "drift";
  setenv("ELECTRA_INJECT_DIVERGENCE", "1:3", 1);
  try {
    train(config, world());
    ADD_FAILURE() << "the drift went unnoticed";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("step 3: the ranks' parameters are no longer identical"),
              std::string::npos)
        << e.what();
  }
  unsetenv("ELECTRA_INJECT_DIVERGENCE");
}

TEST(PretrainRanks, ARanksBadInputStopsEveryRankWithItsRank) {
  SharedDir dir;
  write_corpus(dir / "data");
  TrainConfig config = tiny_config(dir / "data", dir / "run");
  // A model whose positions are fewer than the corpus's sequence length: refused before training.
  config.model.set("max_position_embeddings=16");
  EXPECT_THROW(train(config, world()), std::runtime_error);
}

// --init-from the HF pair: the first step's losses are the pair's on that batch (the imported
// pair's forward with the trainer's masks), not a fresh model's; after some steps the export
// imports back with the same weights.
TEST(PretrainRanks, InitFromTheHfPairStartsFromItsWeightsAndItsExportImportsBackTheSame) {
  SharedDir dir;
  write_corpus(dir / "data");
  if (!world().is_root()) return;
  auto alone = dist::make_single_process_communicator();
  const InitSource source = read_init_source(kHfPair, "");
  TrainConfig config = tiny_config(dir / "data", dir / "init");
  config.model =
      init_model_config(source.model->config, source.has_generator, "the pair", std::nullopt, "",
                        {"hidden_dropout_prob=0", "attention_probs_dropout_prob=0"});
  config.vocab_path = source.vocab_path, config.init_from = kHfPair;
  config.init_record = source.record(false);
  config.train_steps = 4, config.learning_rate = 1e-4;
  {
    Trainer trainer(config, *alone, ResumeMode::kIfPresent, &source);
    trainer.run();
  }
  const auto steps = records(config.out_dir, "train");
  ASSERT_EQ(steps.size(), 4u);
  ASSERT_EQ(records(config.out_dir, "eval").front()["step"], 0);  // evaluated before step 1

  // The first batch as the trainer takes it (rows of epoch 0, keyed by seed, step 0 and slot),
  // through the pair as HF's files hold it.
  const data::Vocabulary vocab = data::Vocabulary::load(source.vocab_path);
  data::BatchLoaderOptions loading;
  loading.rank = 0, loading.world = 1, loading.batch_size = config.batch_size;
  loading.seed = config.seed;
  data::BatchLoader loader(config.data_dir, vocab, data::Manifest::load(config.data_dir).lowercase,
                           loading);
  loader.start_epoch(0);
  data::RowBatch rows;
  ASSERT_TRUE(loader.next(rows));
  const auto column = [&](auto& values, at::ScalarType type) {
    return at::from_blob(values.data(), {rows.rows, rows.length}, at::TensorOptions().dtype(type))
        .to(at::kLong);
  };
  Batch batch{column(rows.input_ids, at::kInt), column(rows.input_mask, at::kByte),
              column(rows.segment_ids, at::kByte)};
  std::vector<uint64_t> keys(size_t(rows.rows));
  for (size_t i = 0; i < keys.size(); ++i) keys[i] = data::mix_seed(config.seed, 0, i);
  StepOptions options;
  options.masking.max_predictions = max_predictions_per_seq(0.15, rows.length);
  model::HfImport pair = model::import_hf(kHfPair);
  pair.model->eval();
  const StepOutput expected = electra_forward(*pair.model, batch, options, RowRandom(keys));
  for (auto [field, value] : {std::pair{"loss", expected.total},
                              {"mlm_loss", expected.mlm_loss},
                              {"disc_loss", expected.disc_loss}}) {
    const double want = value.item<double>();
    EXPECT_NEAR(steps[0][field].get<double>(), want, 1e-5 * std::abs(want)) << field;
  }
  // A fresh model of the same configuration starts elsewhere.
  TrainConfig fresh = config;
  fresh.out_dir = dir / "fresh", fresh.init_from.clear(), fresh.init_record = nullptr;
  train(fresh, *alone);
  const auto fresh_steps = records(fresh.out_dir, "train");
  std::printf("first step loss: --init-from %.6f, the pair's forward %.6f, a fresh model %.6f\n",
              steps[0]["loss"].get<double>(), expected.total.item<double>(),
              fresh_steps[0]["loss"].get<double>());
  EXPECT_GT(std::abs(fresh_steps[0]["loss"].get<double>() - steps[0]["loss"].get<double>()), 1e-3);

  // Trained on, exported, imported back: the same weights, and not the pair's any more.
  auto trained = read_model(resolve_checkpoint(config.out_dir));
  model::export_hf(*trained, config.out_dir + "/vocab.txt", dir / "hf");
  auto back = model::import_hf(dir / "hf").model;
  const auto back_parameters = back->named_parameters();
  const auto pair_parameters = pair.model->named_parameters();
  double moved = 0;
  for (const auto& item : trained->named_parameters()) {
    ASSERT_TRUE(back_parameters.contains(item.key())) << item.key();
    EXPECT_TRUE(item.value().equal(back_parameters[item.key()])) << item.key();
    moved =
        std::max(moved, (item.value() - pair_parameters[item.key()]).abs().max().item<double>());
  }
  EXPECT_GT(moved, 0.0);
}

}  // namespace
}  // namespace electra::train
