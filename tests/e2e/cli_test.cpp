// The electra command end to end: options, --config, and a clear one-line error for each kind of
// bad input, with nothing half-written left behind.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "data/sha256.h"
#include "test_util.h"

namespace electra {
namespace {

using electra::testing::fails_with;
using electra::testing::run_shell;
using electra::testing::TempDir;
using electra::testing::write_file;
namespace fs = std::filesystem;

const std::string kElectra = ELECTRA_BINARY;
const std::string kSample = std::string(ELECTRA_DATA_DIR) + "/sample";

using electra::testing::quote;

// A small corpus: two documents.
void write_corpus(const std::string& path) {
  std::string text;
  for (int d = 0; d < 2; ++d) {
    for (int i = 0; i < 40; ++i)
      text += "Call me Ishmael, sentence " + std::to_string(i) + " of document " +
              std::to_string(d) + ".\n";
    text += "\n";
  }
  write_file(path, text);
}

TEST(Cli, HelpListsCommandsAndEveryOptionOnceWithDefaults) {
  auto overview = run_shell(kElectra + " --help");
  EXPECT_EQ(overview.exit_code, 0);
  for (const char* command : {"tokenize", "vocab", "prepare", "verify"}) {
    EXPECT_NE(overview.output.find(command), std::string::npos) << command;
  }
  auto help = run_shell(kElectra + " prepare --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("--seq-len arg (=128)"), std::string::npos) << help.output;
  size_t first = help.output.find("--val-fraction");
  EXPECT_EQ(help.output.find("--val-fraction", first + 1), std::string::npos);
  // Fractional defaults read as written, not as Boost prints a double ("0.14999999999999999").
  auto pretrain = run_shell(kElectra + " pretrain --help");
  EXPECT_NE(pretrain.output.find("--mask-prob arg (=0.15)"), std::string::npos) << pretrain.output;
  EXPECT_NE(help.output.find("--val-fraction arg (=0.01)"), std::string::npos) << help.output;
}

TEST(Cli, UnknownOrMalformedOptionsNameTheOption) {
  EXPECT_TRUE(fails_with(run_shell(kElectra + " prepare --bogus 1"), 2, "--bogus"));
  EXPECT_TRUE(
      fails_with(run_shell(kElectra + " prepare --input x --out y --seq-len abc"), 2, "--seq-len"));
  EXPECT_TRUE(fails_with(run_shell(kElectra + " frobnicate"), 2, "unknown command 'frobnicate'"));
}

TEST(Cli, ConfigFileGivesOptionsAndTheCommandLineWins) {
  TempDir dir;
  write_corpus(dir / "c.txt");
  write_file(dir / "run.ini", "input = " + (dir / "c.txt") + "\nout = " + (dir / "from_config") +
                                  "\nseq-len = 32\nval-fraction = 0\n");
  auto result =
      run_shell(kElectra + " prepare --config " + quote(dir / "run.ini") + " --seq-len 24");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("of length 24"), std::string::npos) << result.output;
  EXPECT_TRUE(fs::exists(dir / "from_config/manifest.json"));
  write_file(dir / "bad.ini", "sequence-length = 32\n");
  EXPECT_TRUE(fails_with(run_shell(kElectra + " prepare --config " + quote(dir / "bad.ini")), 2,
                         "sequence-length"));
}

TEST(Cli, TokenizePrintsIdsAndPieces) {
  auto ids = run_shell("printf 'Hello, world!\\tSecond\\n' | " + kElectra + " tokenize");
  EXPECT_EQ(ids.output, "101 7592 1010 2088 999 102 2117 102\n");
  auto pieces = run_shell("printf 'unaffable\\n' | " + kElectra + " tokenize --tokens");
  EXPECT_EQ(pieces.output, "[CLS] una ##ffa ##ble [SEP]\n");
}

TEST(Cli, VocabLearnsAVocabularyThatTokenizeUses) {
  TempDir dir;
  const std::string out = dir / "vocab.txt";
  auto result = run_shell(kElectra + " vocab --input " + quote(kSample + "/mobydick.txt") +
                          " --size 3000 --out " + quote(out));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const std::string vocab = testing::read_file(out);
  EXPECT_EQ(vocab.substr(0, 31), "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n");
  EXPECT_EQ(std::count(vocab.begin(), vocab.end(), '\n'), 3000);
  auto ids = run_shell("echo 'Call me Ishmael.' | " + kElectra + " tokenize --tokens --vocab " +
                       quote(out));
  EXPECT_EQ(ids.exit_code, 0);
  EXPECT_EQ(ids.output.find("[UNK]"), std::string::npos) << ids.output;
  EXPECT_TRUE(fails_with(run_shell(kElectra + " vocab --input " + quote(kSample + "/mobydick.txt") +
                                   " --out " + quote(out)),
                         1, "vocab.txt: exists"));
  EXPECT_EQ(testing::read_file(out), vocab);  // untouched
}

TEST(Cli, PrepareConvertsNvidiaShards) {
  TempDir dir;
  fs::create_directories(dir / "nvidia");
  fs::copy_file(std::string(ELECTRA_TEST_DATA_DIR) + "/nvidia_bert_moby_128.hdf5",
                dir / "nvidia/shard.hdf5");
  auto result = run_shell(kElectra + " prepare --from-nvidia-shards " + quote(dir / "nvidia") +
                          " --out " + quote(dir / "out") + " --val-fraction 0");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("prepared 571 examples"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("of length 128"), std::string::npos) << result.output;
  EXPECT_EQ(run_shell(kElectra + " verify --data " + quote(dir / "out")).exit_code, 0);
}

TEST(BadInput, MissingInput) {
  TempDir dir;
  EXPECT_TRUE(fails_with(run_shell(kElectra + " prepare --input " + quote(dir / "nope.txt") +
                                   " --out " + quote(dir / "out")),
                         1, "nope.txt: no such file or folder"));
}

TEST(BadInput, UnreadableInput) {
  // Root reads any file, so as root the command runs as "nobody" (setpriv, util-linux).
  TempDir dir;
  write_corpus(dir / "c.txt");
  fs::permissions(dir.path(), fs::perms::all);
  fs::permissions(dir / "c.txt", fs::perms::none);
  const std::string as_user =
      geteuid() == 0 ? "setpriv --reuid=nobody --regid=nogroup --clear-groups " : "";
  EXPECT_TRUE(fails_with(run_shell(as_user + kElectra + " prepare --input " + quote(dir / "c.txt") +
                                   " --out " + quote(dir / "out")),
                         1, "c.txt: cannot open (Permission denied)"));
}

TEST(BadInput, EmptyInput) {
  TempDir dir;
  write_file(dir / "empty.txt", "");
  EXPECT_TRUE(fails_with(run_shell(kElectra + " prepare --input " + quote(dir / "empty.txt") +
                                   " --out " + quote(dir / "out")),
                         1, "empty.txt: the input is empty"));
  write_file(dir / "blank.txt", "\n\n  \n");
  EXPECT_TRUE(fails_with(run_shell(kElectra + " prepare --input " + quote(dir / "blank.txt") +
                                   " --out " + quote(dir / "out2")),
                         1, "the input has no text"));
}

TEST(BadInput, InvalidUtf8IsReplacedAndCounted) {
  TempDir dir;
  write_file(dir / "bad.txt", "caf\xe9 au lait\nok \xff\xfe text\n\nfine line\n");
  auto result = run_shell(kElectra + " prepare --input " + quote(dir / "bad.txt") + " --out " +
                          quote(dir / "out") + " --val-fraction 0");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("invalid UTF-8: 3 sequence(s)"), std::string::npos) << result.output;
}

TEST(BadInput, OverlongLine) {
  TempDir dir;
  write_file(dir / "long.txt", "short\n" + std::string(3000, 'a') + "\n");
  EXPECT_TRUE(fails_with(run_shell(kElectra + " prepare --input " + quote(dir / "long.txt") +
                                   " --out " + quote(dir / "out") + " --max-line-bytes 1000"),
                         1, "long.txt:2: line longer than 1000 bytes"));
  // The folder the refused command made is gone again.
  EXPECT_FALSE(fs::exists(dir / "out"));
}

TEST(Prepare, IsDeterministicForASeedAndReadableByH5dumpAndH5py) {
  TempDir dir;
  write_corpus(dir / "c.txt");
  const std::string prepare = kElectra + " prepare --input " + quote(dir / "c.txt") +
                              " --seq-len 32 --shards 2 --val-fraction 0.2 --out ";
  ASSERT_EQ(run_shell(prepare + quote(dir / "a") + " --seed 7").exit_code, 0);
  sleep(1);  // a second later: no timestamp may make the files differ
  ASSERT_EQ(run_shell(prepare + quote(dir / "b") + " --seed 7").exit_code, 0);
  ASSERT_EQ(run_shell(prepare + quote(dir / "c") + " --seed 8").exit_code, 0);
  for (const char* shard : {"train-00000.h5", "train-00001.h5", "validation-00000.h5"}) {
    EXPECT_EQ(testing::read_file(dir / ("a/" + std::string(shard))),
              testing::read_file(dir / ("b/" + std::string(shard))))
        << shard;
  }
  EXPECT_NE(testing::read_file(dir / "a/train-00000.h5"),
            testing::read_file(dir / "c/train-00000.h5"));

  auto dump = run_shell("h5dump -d input_ids -c 1,32 " + quote(dir / "a/train-00000.h5"));
  ASSERT_EQ(dump.exit_code, 0) << dump.output;
  EXPECT_NE(dump.output.find("H5T_STD_U16LE"), std::string::npos) << dump.output;
  EXPECT_NE(dump.output.find("(0,0): 101,"), std::string::npos) << dump.output;  // [CLS]
  auto python = run_shell(
      "/usr/bin/python3 -c \"import h5py, sys; f = h5py.File(sys.argv[1]); "
      "print(f['input_ids'].shape, f['input_ids'][0, 0], f.attrs['max_seq_length'], "
      "f['segment_ids'].chunks[1])\" " +
      quote(dir / "a/train-00000.h5"));
  ASSERT_EQ(python.exit_code, 0) << python.output;
  EXPECT_NE(python.output.find(", 32) 101 32 32"), std::string::npos) << python.output;
}

TEST(BadInput, ExistingOutputFolderNeedsOverwrite) {
  TempDir dir;
  write_corpus(dir / "c.txt");
  const std::string prepare = kElectra + " prepare --input " + quote(dir / "c.txt") + " --out " +
                              quote(dir / "out") + " --seq-len 32";
  ASSERT_EQ(run_shell(prepare).exit_code, 0);
  const std::string before = testing::read_file(dir / "out/manifest.json");
  EXPECT_TRUE(fails_with(run_shell(prepare), 1,
                         "out: holds a prepared corpus; choose another --out or pass --overwrite"));
  EXPECT_EQ(testing::read_file(dir / "out/manifest.json"), before);  // untouched
  auto again = run_shell(prepare + " --overwrite");
  EXPECT_EQ(again.exit_code, 0) << again.output;
}

// Prepares a verified corpus in dir/out and returns its first train shard.
std::string prepared_shard(const TempDir& dir) {
  write_corpus(dir / "c.txt");
  auto result = run_shell(kElectra + " prepare --input " + quote(dir / "c.txt") + " --out " +
                          quote(dir / "out") + " --seq-len 32 --val-fraction 0");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(run_shell(kElectra + " verify --data " + quote(dir / "out")).exit_code, 0);
  return dir / "out/train-00000.h5";
}

TEST(BadInput, TruncatedShard) {
  TempDir dir;
  const std::string shard = prepared_shard(dir);
  fs::resize_file(shard, fs::file_size(shard) / 2);
  EXPECT_TRUE(fails_with(run_shell(kElectra + " verify --data " + quote(dir / "out")), 1,
                         "train-00000.h5: "));
}

TEST(BadInput, CorruptShard) {
  TempDir dir;
  const std::string shard = prepared_shard(dir);
  std::string bytes = testing::read_file(shard);
  for (size_t i = bytes.size() / 2; i < bytes.size() / 2 + 64; ++i)
    bytes[i] = char(bytes[i] ^ 0x5a);
  write_file(shard, bytes);
  EXPECT_TRUE(fails_with(run_shell(kElectra + " verify --data " + quote(dir / "out")), 1,
                         "train-00000.h5: "));
}

TEST(BadInput, ShardOfAnotherVocabulary) {
  TempDir dir;
  prepared_shard(dir);
  std::string vocab =
      testing::read_file(std::string(ELECTRA_DATA_DIR) + "/vocab/bert-base-uncased-vocab.txt");
  write_file(dir / "other-vocab.txt", vocab + "electra-test-extra-token\n");
  EXPECT_TRUE(fails_with(run_shell(kElectra + " verify --data " + quote(dir / "out") + " --vocab " +
                                   quote(dir / "other-vocab.txt")),
                         1, "another vocabulary"));
}

TEST(BadInput, FailedWriteLeavesNoShard) {
  // A file-size limit makes writes fail with EFBIG, as a full disk does with ENOSPC.
  TempDir dir;
  auto result =
      run_shell("bash -c \"trap '' XFSZ; ulimit -f 64; exec " + kElectra + " prepare --input " +
                quote(kSample) + " --out " + quote(dir / "out") + "\"");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("check free disk space"), std::string::npos) << result.output;
  EXPECT_FALSE(fs::exists(dir / "out/manifest.json"));
  if (fs::exists(dir / "out")) {  // removed when nothing was left in it
    for (const auto& entry : fs::directory_iterator(dir / "out")) {
      EXPECT_NE(entry.path().extension(), ".h5") << "a shard looks complete: " << entry.path();
    }
  }
}

}  // namespace
}  // namespace electra
