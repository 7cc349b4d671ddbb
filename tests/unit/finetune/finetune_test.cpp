// Fine-tuning pieces: the layer-wise learning-rate factor of every parameter of the classifier,
// pair encoding with BERT's longest-first truncation, label sets, and the classifier's copy of a
// pretrained discriminator.
#include <gtest/gtest.h>

#include <cmath>

#include "app/finetune/sweep.h"
#include "app/finetune/task_encoding.h"
#include "app/model/sequence_classifier.h"
#include "app/train/optimizer.h"
#include "test_util.h"

namespace electra::finetune {
namespace {

TEST(LayerwiseDecay, EveryParameterGetsDecayToItsDistanceFromTheHead) {
  const auto config = model::ModelConfig::load("tiny");
  const int layers = int(config.discriminator.num_hidden_layers);
  model::SequenceClassifier classifier(config, 3);
  train::AdamW optimizer(*classifier, train::AdamWOptions{});
  const double decay = 0.8;
  optimizer.set_lr_scales([&](const std::string& name) {
    return train::layerwise_lr_factor(classifier->depth_of(name), layers, decay);
  });
  size_t head = 0, embeddings = 0, encoder = 0;
  for (const auto& slot : optimizer.slots()) {
    SCOPED_TRACE(slot.name);
    const std::string prefix = "discriminator.encoder.layers.";
    if (slot.name.rfind("head_", 0) == 0) {
      EXPECT_DOUBLE_EQ(slot.lr_scale, 1.0);
      ++head;
    } else if (slot.name.rfind(prefix, 0) == 0) {
      const int i = std::stoi(slot.name.substr(prefix.size()));
      // Layer i of L: decay^(L - i); the top layer (i = L - 1) gets decay once, not twice.
      EXPECT_DOUBLE_EQ(slot.lr_scale, std::pow(decay, layers - i));
      ++encoder;
    } else {
      EXPECT_TRUE(slot.name.rfind("embeddings.", 0) == 0 ||
                  slot.name.rfind("discriminator.embeddings_project.", 0) == 0);
      EXPECT_DOUBLE_EQ(slot.lr_scale, std::pow(decay, layers + 1));
      ++embeddings;
    }
  }
  EXPECT_EQ(head, 4u);  // two dense layers, weight and bias
  EXPECT_GT(encoder, 0u);
  EXPECT_GT(embeddings, 0u);
  EXPECT_EQ(head + encoder + embeddings, classifier->parameters().size());
}

TEST(LayerwiseDecay, TheOptimiserStepIsScaled) {
  torch::nn::Module module;
  auto a = module.register_parameter("a", torch::zeros({2}));
  auto b = module.register_parameter("b", torch::zeros({2}));
  train::AdamWOptions options;
  options.weight_decay = 0;
  train::AdamW optimizer(module, options);
  optimizer.set_lr_scales([](const std::string& name) { return name == "a" ? 1.0 : 0.25; });
  a.mutable_grad() = torch::ones({2}), b.mutable_grad() = torch::ones({2});
  optimizer.step(0.1);
  EXPECT_NEAR(b[0].item<double>() / a[0].item<double>(), 0.25, 1e-6);
}

const data::WordPieceTokenizer& tokenizer() {
  static const data::WordPieceTokenizer t(
      std::make_shared<const data::Vocabulary>(
          data::Vocabulary::load(ELECTRA_DATA_DIR "/vocab/bert-base-uncased-vocab.txt")),
      true);
  return t;
}

TEST(TaskEncoding, PairsAreTruncatedLongestFirstAndLabelled) {
  data::TaskFile file;
  file.pairs = true, file.labelled = true;
  file.examples = {{"one two three four five six", "seven", "b"}, {"a", "b", "a"}};
  const LabelSet labels = LabelSet::from_examples(file.examples);
  ASSERT_EQ(labels.labels(), (std::vector<std::string>{"a", "b"}));
  // 9 positions: [CLS] + 5 of A... longest first: A loses words until A + B fit in 6.
  const EncodedTask task = encode_task(file, tokenizer(), 9, TaskType::kClassification, labels);
  EXPECT_EQ(task.truncated, 1);
  const auto& special = tokenizer().vocab().special();
  const auto id = [&](const char* word) {
    std::vector<int32_t> ids;
    tokenizer().encode(word, ids);
    return int64_t(ids.at(0));
  };
  const std::vector<int64_t> expected{special.cls, id("one"),   id("two"),
                                      id("three"), id("four"),  id("five"),
                                      special.sep, id("seven"), special.sep};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(task.input_ids[0][long(i)].item<int64_t>(), expected[i]) << i;
  }
  EXPECT_EQ(task.segment_ids[0][7].item<int64_t>(), 1);
  EXPECT_EQ(task.segment_ids[0][6].item<int64_t>(), 0);
  EXPECT_EQ(task.input_mask[1].sum().item<int64_t>(), 5);  // [CLS] a [SEP] b [SEP]
  EXPECT_EQ(task.targets[0].item<int64_t>(), 1);
  EXPECT_EQ(task.targets[1].item<int64_t>(), 0);
}

TEST(TaskEncoding, IntegerLabelsSortNumericallyAndUnknownOnesAreNamed) {
  const LabelSet labels =
      LabelSet::from_examples({{"x", "", "10"}, {"y", "", "2"}, {"z", "", "1"}});
  EXPECT_EQ(labels.labels(), (std::vector<std::string>{"1", "2", "10"}));
  EXPECT_EQ(labels.positive(), 0);  // "1"
  try {
    labels.index("3");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("label '3' is not one of the model's labels (1, 2, 10)"),
              std::string::npos);
  }
  data::TaskFile file;
  file.labelled = true;
  file.examples = {{"text", "", "high"}};
  EXPECT_THROW(encode_task(file, tokenizer(), 16, TaskType::kRegression, LabelSet()),
               std::runtime_error);
}

TEST(SequenceClassifier, CopiesThePretrainedDiscriminatorAndGivesOneOutputPerLabel) {
  const auto config = model::ModelConfig::load("tiny");
  torch::manual_seed(1);
  model::ElectraModel pair(config);
  model::SequenceClassifier classifier(config, 2);
  classifier->load_encoder_from(*pair);
  const auto source = pair->named_parameters();
  for (const auto& item : classifier->named_parameters()) {
    if (item.key().rfind("head_", 0) == 0) continue;
    EXPECT_TRUE(item.value().equal(source[item.key()])) << item.key();
  }
  classifier->eval();
  const auto ids = torch::randint(1000, 2000, {3, 16}, torch::kLong);
  const auto out = classifier->forward(ids, torch::zeros_like(ids), torch::ones_like(ids));
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{3, 2}));
}

TEST(ReinitLayers, TheTopLayersAreDrawnAsAtTheStartAndAllElseIsThePairs) {
  const auto config = model::ModelConfig::load("tiny");
  const int layers = int(config.discriminator.num_hidden_layers);
  ASSERT_GE(layers, 3);
  torch::manual_seed(1);
  model::ElectraModel pair(config);
  {
    torch::NoGradGuard no_grad;  // "pretrained": every weight away from any initialisation
    for (auto& p : pair->parameters()) p.add_(0.5);
  }
  torch::manual_seed(7);
  model::ElectraModel kept = model::with_fresh_top_layers(*pair, 2);
  torch::manual_seed(7);
  model::ElectraModel start(config);  // what the same generator draws at initialisation
  const auto pretrained = pair->named_parameters();
  const auto drawn = start->named_parameters();
  const std::string stack = "discriminator.encoder.layers.";
  int fresh = 0, same = 0;
  for (const auto& item : kept->named_parameters()) {
    SCOPED_TRACE(item.key());
    const bool top =
        item.key().rfind(stack, 0) == 0 && std::stoi(item.key().substr(stack.size())) >= layers - 2;
    if (top) {
      EXPECT_TRUE(item.value().equal(drawn[item.key()]));
      EXPECT_FALSE(item.value().equal(pretrained[item.key()]));
      ++fresh;
    } else {
      EXPECT_TRUE(item.value().equal(pretrained[item.key()]));
      ++same;
    }
  }
  EXPECT_GT(fresh, 0);
  EXPECT_GT(same, fresh);  // the embeddings, the lower layers, the generator and the RTD head
  model::ElectraModel all_kept = model::with_fresh_top_layers(*pair, 0);
  for (const auto& item : all_kept->named_parameters()) {
    EXPECT_TRUE(item.value().equal(pretrained[item.key()])) << item.key();
  }
  try {
    model::with_fresh_top_layers(*pair, layers + 1);
    ADD_FAILURE() << "more layers than the discriminator has were accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "--reinit-layers " + std::to_string(layers + 1) +
                                         ": the discriminator has " + std::to_string(layers) +
                                         " layers; give 0 to " + std::to_string(layers));
  }
}

TEST(SweepTask, ATypeFollowsTheNameAndNamesCannotLeaveTheOutputFolder) {
  const SweepTask squad = parse_sweep_task("squad@span:train.json:dev.json:test.json");
  EXPECT_EQ(squad.name, "squad");
  EXPECT_EQ(squad.type, "span");
  EXPECT_EQ(squad.test, "test.json");
  EXPECT_EQ(parse_sweep_task("pos:a.conllu:b.conllu").type, "");  // inferred when run
  for (const char* bad : {"..:a:b", "a/b:a:b", ":a:b", "x@ranking:a:b", "x:a", "x:a:b:c:d"}) {
    EXPECT_THROW(parse_sweep_task(bad), std::invalid_argument) << bad;
  }
}

TEST(GlueTasks, ThePapersEpochsAndMetricsForTheTasksPresent) {
  testing::TempDir dir;
  for (const char* task : {"CoLA", "RTE", "MRPC", "STS-B"}) {
    std::filesystem::create_directories(dir / task);
    testing::write_file(dir / task + "/train.tsv", "");
    testing::write_file(dir / task + "/dev.tsv", "");
  }
  std::filesystem::create_directories(dir / "MNLI");  // no dev_matched.tsv: not a task
  testing::write_file(dir / "MNLI/train.tsv", "");
  const std::vector<SweepTask> tasks = glue_tasks(dir.path().string());
  ASSERT_EQ(tasks.size(), 4u);
  std::map<std::string, const SweepTask*> by_name;
  for (const auto& task : tasks) by_name[task.name] = &task;
  EXPECT_EQ(by_name.at("CoLA")->metric, "matthews_corr");
  EXPECT_EQ(by_name.at("CoLA")->epochs, 0);  // the sweep's (3)
  EXPECT_EQ(by_name.at("RTE")->epochs, 10);
  EXPECT_EQ(by_name.at("RTE")->metric, "accuracy");
  EXPECT_EQ(by_name.at("MRPC")->metric, "f1_accuracy_mean");
  EXPECT_EQ(by_name.at("STS-B")->type, "regression");
  EXPECT_EQ(by_name.at("STS-B")->epochs, 10);
  EXPECT_TRUE(by_name.at("STS-B")->glue);
  testing::TempDir empty;
  EXPECT_NE(testing::thrown_message([&] {
              glue_tasks(empty.path().string());
            }).find("no GLUE task found"),
            std::string::npos);
}

}  // namespace
}  // namespace electra::finetune
