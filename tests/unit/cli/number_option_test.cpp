// Numeric options: every one of every command declares its range (number_option.h), its default
// lies in it, and bad values are refused with the option, the value and the range.
#include <gtest/gtest.h>

#include <typeindex>

#include "app/cli/command.h"

namespace electra::cli {
namespace {

bool numeric(const std::type_info& type) {
  static const std::vector<std::type_index> types = {typeid(int),
                                                     typeid(unsigned),
                                                     typeid(long),
                                                     typeid(unsigned long),
                                                     typeid(long long),
                                                     typeid(unsigned long long),
                                                     typeid(float),
                                                     typeid(double),
                                                     typeid(short),
                                                     typeid(unsigned short),
                                                     typeid(std::vector<int>),
                                                     typeid(std::vector<double>),
                                                     typeid(std::vector<long long>)};
  for (const auto& candidate : types) {
    if (candidate == std::type_index(type)) return true;
  }
  return false;
}

TEST(NumberOption, EveryNumericOptionOfEveryCommandHasARangeHoldingItsDefault) {
  int ranged = 0;
  for (const auto& command : all_commands()) {
    po::options_description declared;
    command.declare_options(declared);
    for (const auto& option : declared.options()) {
      const auto* semantic = option->semantic().get();
      const auto* typed = dynamic_cast<const po::typed_value_base*>(semantic);
      ASSERT_NE(typed, nullptr) << command.name << " --" << option->long_name();
      const auto* range = dynamic_cast<const RangedOption*>(semantic);
      if (!numeric(typed->value_type())) {
        EXPECT_EQ(range, nullptr) << command.name << " --" << option->long_name();
        continue;
      }
      ASSERT_NE(range, nullptr) << "electra " << command.name << " --" << option->long_name()
                                << " is numeric but declared without a range (use number())";
      EXPECT_TRUE(range->default_in_range()) << command.name << " --" << option->long_name()
                                             << ": default outside " << range->expected();
      ++ranged;
    }
  }
  EXPECT_GT(ranged, 50);
}

TEST(NumberOption, ReadsWholeTokensOnly) {
  const Range<uint64_t> seed = kSeed;
  uint64_t u = 0;
  EXPECT_EQ(check_number<uint64_t>("18446744073709551615", seed, &u), "");
  EXPECT_EQ(u, 18446744073709551615ull);
  EXPECT_NE(check_number<uint64_t>("-1", seed, &u), "");
  EXPECT_NE(check_number<uint64_t>("+1", seed, &u), "");
  EXPECT_NE(check_number<uint64_t>("18446744073709551616", seed, &u), "");
  EXPECT_NE(check_number<uint64_t>("1.5", seed, &u), "");
  EXPECT_NE(check_number<uint64_t>("", seed, &u), "");
  EXPECT_NE(check_number<uint64_t>(" 1", seed, &u), "");
  long long n = 0;
  EXPECT_EQ(check_number<long long>("-3", Range<long long>{-5, 5}, &n), "");
  EXPECT_EQ(n, -3);
  EXPECT_NE(check_number<long long>("1e3", kBatchSize, &n), "");
  EXPECT_NE(check_number<long long>("0x10", kBatchSize, &n), "");
  EXPECT_NE(check_number<long long>("99999999999999999999", kSteps, &n), "");
  int i = 0;
  EXPECT_NE(check_number<int>("4294967297", Range<int>{0, 10}, &i), "");
  double d = 0;
  EXPECT_EQ(check_number<double>("1e-4", kLearningRate, &d), "");
  EXPECT_DOUBLE_EQ(d, 1e-4);
  for (const char* bad : {"inf", "-inf", "nan", "0", "1.5", "1e400", "abc", "1e-4x"}) {
    EXPECT_NE(check_number<double>(bad, kLearningRate, &d), "") << bad;
  }
}

TEST(NumberOption, RangeBoundsAreInclusiveOrOpenAsDeclared) {
  const Range<double> open{0, 1, true, true};
  double d = 0;
  EXPECT_NE(check_number<double>("0", open, &d), "");
  EXPECT_NE(check_number<double>("1", open, &d), "");
  EXPECT_EQ(check_number<double>("0.5", open, &d), "");
  EXPECT_EQ(check_number<double>("0", kFraction, &d), "");
  EXPECT_EQ(check_number<double>("1", kFraction, &d), "");
  EXPECT_EQ(range_text(open), "a finite number in (0, 1)");
  EXPECT_EQ(range_text(kSeed), "a whole number in [0, 2^64-1]");
}

const Command& command_named(const std::string& name) {
  for (const auto& command : all_commands()) {
    if (name == command.name) return command;
  }
  throw std::runtime_error("no command " + name);
}

std::string usage_error(const std::string& name, std::vector<std::string> args) {
  args.insert(args.begin(), name);
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  po::variables_map options;
  try {
    parse_options(command_named(name), int(argv.size()), argv.data(), options);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(NumberOption, ParseErrorsNameTheOptionTheValueAndTheRange) {
  EXPECT_EQ(usage_error("pretrain", {"--data", "d", "--out", "o", "--learning-rate", "inf"}),
            "--learning-rate inf: not a finite number in (0, 1]");
  EXPECT_EQ(usage_error("vocab", {"--input", "x", "--out", "o", "--size", "-5"}),
            "--size -5: not a whole number in [6, 10000000]");
  EXPECT_EQ(usage_error("pretrain", {"--data", "d", "--out", "o", "--seed", "-1"}),
            "--seed -1: not a whole number in [0, 2^64-1]");
  EXPECT_NE(usage_error("pretrain", {"--data", "d", "--out", "o", "--threads", "100000"})
                .find("--threads 100000: not a whole number in [0, "),
            std::string::npos);
  EXPECT_EQ(usage_error("evaluate", {"--model", "m", "--data", "t", "--batch-size", "0"}),
            "--batch-size 0: not a whole number in [1, 65536]");
  EXPECT_EQ(usage_error("pretrain", {"--data", "d", "--out", "o", "--learning-rate", "1e-4"}), "");
}

TEST(NumberOption, ConfigFileValuesAreCheckedTheSameWay) {
  const std::string path = testing::TempDir() + "/number_option_test.ini";
  { std::ofstream(path) << "learning-rate = nan\n"; }
  const std::string error =
      usage_error("pretrain", {"--data", "d", "--out", "o", "--config", path});
  EXPECT_NE(error.find("learning-rate nan: not a finite number in (0, 1]"), std::string::npos)
      << error;
}

}  // namespace
}  // namespace electra::cli
