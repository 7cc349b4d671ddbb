// The readers of everything a user hands electra, under AddressSanitizer and UBSan (built apart
// from LibTorch, see tests/CMakeLists.txt): thousands of mutations of a valid file each (bit
// flips, truncations, bytes and characters of the format inserted, lines repeated or dropped).
// Every outcome must be a clean read or a std::runtime_error (or out_of_range) naming the file;
// a crash, an out-of-bounds access, undefined behaviour or a leak fails the test. Each suite
// prints its counts as one JSON line.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>

#include "app/finetune/squad_reader.h"
#include "app/finetune/tagged_text.h"
#include "app/model/model_config.h"
#include "data/json_fields.h"
#include "data/manifest.h"
#include "data/shard_reader.h"
#include "data/shard_writer.h"
#include "data/task_reader.h"
#include "data/vocabulary.h"

namespace electra {
namespace {

namespace fs = std::filesystem;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// One to four random edits of ORIGINAL; ALPHABET holds the characters that matter to the format.
std::string mutate(const std::string& original, std::mt19937_64& rng, const std::string& alphabet) {
  std::string bytes = original;
  const int edits = 1 + int(rng() % 4);
  for (int e = 0; e < edits && !bytes.empty(); ++e) {
    const size_t at = rng() % bytes.size();
    switch (rng() % 7) {
      case 0:
        bytes[at] ^= char(1 << (rng() % 8));
        break;  // bit flip
      case 1:
        bytes.resize(rng() % (bytes.size() + 1));
        break;  // truncation
      case 2:
        bytes[at] = char(rng());
        break;  // any byte
      case 3:
        bytes.insert(at, 1, alphabet[rng() % alphabet.size()]);
        break;  // a format byte
      case 4:
        bytes.erase(at, 1 + rng() % 16);
        break;   // a run dropped
      case 5: {  // a line repeated
        const size_t start = bytes.rfind('\n', at), end = bytes.find('\n', at);
        const size_t from = start == std::string::npos ? 0 : start + 1;
        const std::string line =
            bytes.substr(from, end == std::string::npos ? std::string::npos : end - from + 1);
        bytes.insert(from, line);
        break;
      }
      case 6:
        bytes.replace(at, 1, std::to_string(int64_t(rng())));
        break;  // a big number
    }
  }
  return bytes;
}

struct Counts {
  int read = 0, refused = 0;
};

// Runs READER on ROUNDS mutations of ORIGINAL written to PATH; an error must name NAME (the
// file's name). Prints {"fuzz": SUITE, "mutations": N, "read": R, "refused": F}.
Counts fuzz(const std::string& suite, const std::string& original, const std::string& path,
            int rounds, const std::string& alphabet,
            const std::function<void(const std::string&)>& reader, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Counts counts;
  const std::string name = fs::path(path).filename().string();
  for (int round = 0; round < rounds; ++round) {
    write_bytes(path, mutate(original, rng, alphabet));
    try {
      reader(path);
      ++counts.read;
    } catch (const std::runtime_error& e) {
      ++counts.refused;
      const std::string what = e.what();
      EXPECT_NE(what.find(name), std::string::npos) << "round " << round << ": " << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << "round " << round << ": " << what;
    } catch (const std::out_of_range& e) {
      ++counts.refused;
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  }
  std::printf("{\"fuzz\": \"%s\", \"mutations\": %d, \"read\": %d, \"refused\": %d}\n",
              suite.c_str(), rounds, counts.read, counts.refused);
  return counts;
}

class ReadersFuzz : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("electra-fuzz-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

const std::string kData = ELECTRA_TEST_DATA_DIR;
const std::string kRepo = kData + "/../..";

data::ShardAttributes shard_attributes() {
  data::ShardAttributes a;
  a.vocab_sha256 = std::string(64, 'a');
  a.vocab_size = 1000;
  a.max_seq_length = 16;
  a.split = "train";
  return a;
}

// Opens the shard and reads every row in blocks, as the loaders and `verify` do.
void read_shard(const std::string& path, data::ShardReader::Layout layout) {
  data::ShardReader reader(path, layout);
  for (long long first = 0; first < reader.num_rows(); first += 64) {
    const auto block = reader.read_rows(first, std::min(64LL, reader.num_rows() - first));
    ASSERT_EQ(block.input_ids.size(), size_t(block.rows * block.length));
  }
}

TEST_F(ReadersFuzz, HdfShards) {
  {
    data::ShardWriter writer(path("seed.h5"), shard_attributes(), 8);
    for (int r = 0; r < 40; ++r) {
      data::Example e;
      for (int i = 0; i < 16; ++i) {
        const bool real = i < 4 + r % 12;
        e.input_ids.push_back(real ? (r * 31 + i * 7) % 1000 : 0);
        e.input_mask.push_back(real);
        e.segment_ids.push_back(real && i > 6);
      }
      writer.append(e);
    }
    writer.finish();
  }
  const std::string shard = read_bytes(path("seed.h5"));
  const auto ours = fuzz(
      "hdf5-shard", shard, path("mutated.h5"), 3000, std::string("\0\1\377", 3),
      [](const std::string& p) { read_shard(p, data::ShardReader::Layout::kElectra); }, 1);
  EXPECT_GT(ours.refused, 300);
  EXPECT_GT(ours.read, 30);
  const std::string nvidia = read_bytes(kData + "/nvidia_bert_moby_128.hdf5");
  const auto theirs = fuzz(
      "hdf5-nvidia-shard", nvidia, path("mutated-nvidia.hdf5"), 1000, std::string("\0\1\377", 3),
      [](const std::string& p) { read_shard(p, data::ShardReader::Layout::kNvidiaBert); }, 2);
  EXPECT_GT(theirs.refused, 500);  // most damage is caught
  EXPECT_GT(theirs.read, 10);      // some lands in the data and reads as (other) values
}

TEST_F(ReadersFuzz, Manifests) {
  data::Manifest manifest;
  manifest.vocab_sha256 = std::string(64, 'b');
  manifest.vocab_size = 30522;
  manifest.max_seq_length = 128;
  manifest.preparation = {{"seed", 12345}, {"inputs", {"a.txt"}}};
  manifest.shards = {{"train-00000.h5", "train", 1051, 70000, std::string(64, 'c')},
                     {"validation-00000.h5", "validation", 12, 800, std::string(64, 'd')}};
  fs::create_directories(path("corpus"));
  const auto counts = fuzz(
      "manifest", manifest.to_json().dump(2), path("corpus/manifest.json"), 5000,
      "{}[]\",:0123456789-.e \n",
      [](const std::string& p) {
        const auto m = data::Manifest::load(fs::path(p).parent_path());
        for (const auto& split : {"train", "validation"}) m.num_examples(split);
      },
      3);
  EXPECT_GT(counts.refused, 2000);
}

TEST_F(ReadersFuzz, ModelConfigs) {
  const auto counts = fuzz(
      "model-config", read_bytes(kRepo + "/configs/model/tiny.json"), path("model.json"), 5000,
      "{}[]\",:0123456789-.e \n",
      [](const std::string& p) {
        model::ModelConfig::from_json(data::read_json_file(p, "missing"), p).validate(p);
      },
      4);
  EXPECT_GT(counts.refused, 2000);
  EXPECT_GT(counts.read, 100);
}

TEST_F(ReadersFuzz, TsvTaskFiles) {
  std::string tsv = "sentence\tlabel\n";
  for (int i = 0; i < 30; ++i)
    tsv += "a film numbered " + std::to_string(i) + "\t" + std::to_string(i % 2) + "\n";
  std::string cola;
  for (int i = 0; i < 30; ++i)
    cola += "gj04\t" + std::to_string(i % 2) + "\t\tthe sentence " + std::to_string(i) + " .\n";
  std::string pairs = "index\tsentence1\tsentence2\tscore\n";
  for (int i = 0; i < 30; ++i)
    pairs += std::to_string(i) + "\ta man\ta woman " + std::to_string(i) + "\t3.5\n";
  const std::string alphabet = "\t\n\r 01-.#";
  int total = 0;
  for (const auto& [name, text, format] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"sst.tsv", tsv, "auto"},
           {"cola.tsv", cola, "cola"},
           {"stsb.tsv", pairs, "auto"},
           {"generic.tsv", tsv, "generic"}}) {
    const std::string chosen = format;
    const auto counts = fuzz(
        "tsv-" + format + "-" + name, text, path(name), 2000, alphabet,
        [&](const std::string& p) { data::read_task_file(p, chosen); }, 5);
    total += counts.refused;
  }
  EXPECT_GT(total, 1000);
}

TEST_F(ReadersFuzz, SquadJson) {
  const std::string squad = R"({"version": "1.1", "data": [{"title": "Moby", "paragraphs": [
    {"context": "Call me Ishmael. Some years ago, never mind how long precisely.",
     "qas": [{"id": "q1", "question": "Who speaks?", "answers": [{"text": "Ishmael", "answer_start": 8}]},
             {"id": "q2", "question": "When?", "answers": [{"text": "Some years ago", "answer_start": 17}]}]},
    {"context": "It is a way I have of driving off the spleen.",
     "qas": [{"id": "q3", "question": "What is driven off?", "answers": [{"text": "the spleen", "answer_start": 34}]}]}]}]})";
  const auto counts = fuzz(
      "squad-json", squad, path("squad.json"), 5000, "{}[]\",:0123456789-.e \\u",
      [](const std::string& p) { finetune::squad_questions(finetune::read_squad_file(p)); }, 6);
  EXPECT_GT(counts.refused, 2000);
}

// The first sentences of FILE, up to about BYTES bytes (whole sentences).
std::string first_sentences(const std::string& file, size_t bytes) {
  const std::string text = read_bytes(file);
  const size_t end = text.find("\n\n", bytes);
  return text.substr(0, end == std::string::npos ? text.size() : end + 2);
}

TEST_F(ReadersFuzz, ConllFiles) {
  const auto conll = fuzz(
      "conll", first_sentences(kData + "/conll2000_sample_train.txt", 3000), path("chunks.txt"),
      3000, " \t\n-#0123456789", [](const std::string& p) { finetune::read_tag_file(p, "auto"); },
      7);
  const auto conllu = fuzz(
      "conllu", first_sentences(kData + "/atis_sample_train.conllu", 3000), path("atis.conllu"),
      3000, " \t\n-#.0123456789_",
      [](const std::string& p) { finetune::read_tag_file(p, "auto", 4); }, 8);
  EXPECT_GT(conll.refused + conllu.refused, 1000);
}

TEST_F(ReadersFuzz, Vocabularies) {
  // The first 1,200 lines of BERT's vocabulary: the special tokens, [unused], characters.
  const std::string full = read_bytes(kRepo + "/data/vocab/bert-base-uncased-vocab.txt");
  size_t end = 0;
  for (int line = 0; line < 1200; ++line) end = full.find('\n', end) + 1;
  const auto counts = fuzz(
      "vocabulary", full.substr(0, end), path("vocab.txt"), 5000, "\n\r []#\xEF\xBB\xBF",
      [](const std::string& p) {
        const auto vocab = data::Vocabulary::load(p);
        ASSERT_GE(vocab.size(), 5u);
      },
      9);
  EXPECT_GT(counts.refused, 500);
  EXPECT_GT(counts.read, 500);
}

}  // namespace
}  // namespace electra
