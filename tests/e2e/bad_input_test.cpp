// Bad input, end to end: a table of hostile or careless calls of every subcommand. Each case is
// a shell set-up, the electra command line, the exit status and a fragment of the message it must
// print, and the paths that must still exist afterwards (nothing a user had is lost). Every case
// also checks that no library text (LibTorch, nlohmann-json, std::filesystem, HDF5) and no stack
// trace reaches the user, and that the command ends (a hang fails as exit 124).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "app/train/checkpoint_files.h"
#include "bad_input_cases.h"
#include "test_util.h"

namespace electra {
namespace {

namespace fs = std::filesystem;
using electra::testing::quote;
using electra::testing::read_file;
using electra::testing::run_shell;
using electra::testing::write_file;

const std::string kElectra = ELECTRA_BINARY;
const std::string kRepo = std::string(ELECTRA_TEST_DATA_DIR) + "/../..";
const std::string kFixture = std::string(ELECTRA_TEST_DATA_DIR) + "/../fixtures/hf-electra-tiny";

// What the cases start from, made once: a small corpus, a short run, a fine-tuned model, and
// damaged copies of a checkpoint and of the HF fixture with one NaN weight.
struct Environment {
  electra::testing::TempDir dir;
  std::map<std::string, std::string> places;

  static void must(const std::string& command) {
    const auto result = run_shell(command);
    if (result.exit_code != 0) {
      throw std::runtime_error("set-up failed: " + command + "\n" + result.output);
    }
  }

  Environment() {
    const std::string root = dir.path().string();
    places["E"] = kElectra;
    places["repo"] = kRepo;
    places["vocab"] = kRepo + "/data/vocab/bert-base-uncased-vocab.txt";
    places["hf"] = kFixture;
    places["text"] = root + "/text.txt";
    places["data"] = root + "/data";
    places["run"] = root + "/run";
    places["ckpt"] = root + "/run/checkpoints/step-00000002";
    places["sst"] = root + "/sst.tsv";
    places["ft"] = root + "/ft";
    places["nan_run"] = root + "/nan-run";
    places["nan_hf"] = root + "/nan-hf";
    must("head -c 150000 " + quote(kRepo + "/data/sample/mobydick.txt") + " > " +
         quote(places["text"]));
    must(kElectra + " prepare --input " + quote(places["text"]) + " --out " +
         quote(places["data"]) + " --seq-len 64");
    must(kElectra + " pretrain --data " + quote(places["data"]) + " --out " + quote(places["run"]) +
         " --model tiny --train-steps 2 --batch-size 4 --eval-examples 4 --save-every 2 "
         "--threads 1");
    std::string tsv = "sentence\tlabel\n";
    for (int i = 0; i < 24; ++i) {
      tsv += "a good film number " + std::to_string(i) + "\t1\nbad movie really " +
             std::to_string(i) + "\t0\n";
    }
    write_file(places["sst"], tsv);
    must(kElectra + " finetune --model " + quote(places["run"]) + " --train " +
         quote(places["sst"]) + " --dev " + quote(places["sst"]) + " --out " + quote(places["ft"]) +
         " --epochs 1 --threads 1");
    // A checkpoint whose weights hold a NaN (as a diverged run's would).
    fs::copy(places["run"], places["nan_run"], fs::copy_options::recursive);
    const std::string nan_ckpt = places["nan_run"] + "/checkpoints/step-00000002";
    auto model = train::read_model(nan_ckpt);
    {
      torch::NoGradGuard no_grad;
      model->parameters()[3].view(-1)[0] = std::nan("");
    }
    train::write_model_files(*model, nan_ckpt + "/vocab.txt", nan_ckpt);
    // The HF fixture with a NaN as the first weight of the discriminator's file.
    fs::copy(kFixture, places["nan_hf"], fs::copy_options::recursive);
    const std::string weights = places["nan_hf"] + "/discriminator/model.safetensors";
    std::string bytes = read_file(weights);
    uint64_t header = 0;
    for (int i = 7; i >= 0; --i) header = header * 256 + uint8_t(bytes[i]);
    const float nan = std::nanf("");
    std::memcpy(&bytes[8 + header], &nan, sizeof nan);
    write_file(weights, bytes);
  }

  std::string expand(std::string text, const std::string& scratch) const {
    auto all = places;
    all["tmp"] = scratch;
    for (const auto& [name, value] : all) {
      const std::string key = "{" + name + "}";
      for (size_t at; (at = text.find(key)) != std::string::npos;)
        text.replace(at, key.size(), value);
    }
    return text;
  }
};

const Environment& environment() {
  static const Environment made;
  return made;
}

// Library text and traces that must never reach a user.
const char* const kForbidden[] = {
    "frame #",          "Exception raised from", "json.exception", "filesystem error",
    "terminate called", "std::bad_alloc",        "basic_string",   "c10::",
    "what():",          "Segmentation fault",    "Aborted",        "HDF5-DIAG",
    "enforce fail",     "PytorchStreamReader",   "boost::",        "bad_any_cast",
    "core dumped"};

// TEXT as one shell word, whatever quotes it holds.
std::string shell_word(const std::string& text) {
  std::string word = "'";
  for (char c : text) word += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return word + "'";
}

class BadInput : public ::testing::TestWithParam<BadInputCase> {};

TEST_P(BadInput, FailsClearlyAndKeepsWhatTheUserHad) {
  const BadInputCase& c = GetParam();
  const Environment& env = environment();
  electra::testing::TempDir scratch;
  const std::string tmp = scratch.path().string();
  if (!c.setup.empty()) {
    const auto setup = run_shell(env.expand(c.setup, tmp));
    ASSERT_EQ(setup.exit_code, 0) << "set-up: " << env.expand(c.setup, tmp) << "\n" << setup.output;
  }
  // The whole line under the time limit, pipes included.
  const std::string command =
      "cd " + quote(tmp) + " && timeout 120 sh -c " + shell_word(env.expand(c.command, tmp));
  const auto result = run_shell(command);
  EXPECT_EQ(result.exit_code, c.exit_code) << command << "\n" << result.output;
  EXPECT_NE(result.output.find(env.expand(c.message, tmp)), std::string::npos)
      << command << "\nwanted '" << env.expand(c.message, tmp) << "' in:\n"
      << result.output;
  for (const char* forbidden : kForbidden) {
    EXPECT_EQ(result.output.find(forbidden), std::string::npos)
        << "library text '" << forbidden << "' reached the user:\n"
        << result.output;
  }
  for (const auto& path : c.kept) {
    EXPECT_TRUE(fs::exists(env.expand(path, tmp))) << env.expand(path, tmp) << " was lost";
  }
  for (const auto& path : c.absent) {
    EXPECT_FALSE(fs::exists(env.expand(path, tmp))) << env.expand(path, tmp) << " was written";
  }
}

std::string case_name(const ::testing::TestParamInfo<BadInputCase>& info) {
  return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Table, BadInput, ::testing::ValuesIn(bad_input_cases()), case_name);

TEST(BadInputTable, HasAtLeastAHundredCasesOverEveryCommand) {
  const auto cases = bad_input_cases();
  EXPECT_GE(cases.size(), 100u);
  std::set<std::string> names, commands;
  for (const auto& c : cases) {
    EXPECT_TRUE(names.insert(c.name).second) << "two cases named " << c.name;
    const size_t at = c.command.find("{E} ");
    if (at != std::string::npos) {
      const std::string rest = c.command.substr(at + 4);
      commands.insert(rest.substr(0, rest.find(' ')));
    }
  }
  for (const char* command :
       {"tokenize", "vocab", "prepare", "verify", "pretrain", "plot", "inspect", "score",
        "import-hf", "export", "finetune", "evaluate", "sweep"}) {
    EXPECT_TRUE(commands.count(command)) << "no case for electra " << command;
  }
}

}  // namespace
}  // namespace electra
