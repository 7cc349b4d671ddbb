// The record of what a command wrote into its output folder, and what --overwrite then removes.
#include "data/output_record.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "data/atomic_file.h"
#include "data/output_path.h"
#include "test_util.h"

namespace electra::data {
namespace {

namespace fs = std::filesystem;

std::string claimed_error(const std::string& dir, bool overwrite) {
  try {
    claim_output_folder(dir, "export", "an export", {}, overwrite);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(OutputRecord, ListsWhatIsWrittenInsideItsFolderOnly) {
  testing::TempDir dir;
  const std::string out = dir / "out";
  fs::create_directories(out + "/model");
  {
    OutputRecord record = OutputRecord::open(out, "export");
    write_file_atomically(out + "/model/config.json", "{}");
    write_file_atomically(out + "/model/config.json", "{}");  // listed once
    write_file_atomically(dir / "elsewhere.txt", "x");        // not under out
    record.complete();
  }
  const RecordedOutput recorded = read_output_record(out);
  EXPECT_TRUE(recorded.exists);
  EXPECT_EQ(recorded.command, "export");
  EXPECT_EQ(recorded.files, (std::set<std::string>{"model/config.json"}));
  EXPECT_TRUE(recorded.complete);
  write_file_atomically(out + "/model/after.txt", "x");  // no record open: not listed
  EXPECT_EQ(read_output_record(out).files.size(), 1u);
}

TEST(OutputRecord, ALineCutShortByACrashIsIgnored) {
  testing::TempDir dir;
  testing::write_file(dir / ".electra-written",
                      "electra-output-record 1 prepare\nfile a.h5\ncomplete\nfile b.h");
  const RecordedOutput recorded = read_output_record(dir.path().string());
  EXPECT_EQ(recorded.files, (std::set<std::string>{"a.h5"}));
  EXPECT_TRUE(recorded.complete);
  testing::write_file(dir / ".electra-written", "something else\n");
  EXPECT_THROW(read_output_record(dir.path().string()), std::runtime_error);
}

TEST(OutputRecord, ARecordOfNothingLeftIsRemoved) {
  testing::TempDir dir;
  { OutputRecord record = OutputRecord::open(dir.path().string(), "export"); }
  EXPECT_FALSE(fs::exists(dir / ".electra-written"));
  {
    OutputRecord record = OutputRecord::open(dir.path().string(), "export");
    write_file_atomically(dir / "kept.txt", "x");
  }
  EXPECT_TRUE(fs::exists(dir / ".electra-written"));  // unfinished, with a file left
}

TEST(OutputRecord, OverwriteRemovesOnlyTheListedFilesAndTheFoldersTheyLeaveEmpty) {
  testing::TempDir dir;
  const std::string out = dir / "out";
  fs::create_directories(out + "/d/deep");
  {
    OutputRecord record = OutputRecord::open(out, "export");
    write_file_atomically(out + "/d/deep/w.bin", "x");
    write_file_atomically(out + "/results.json", "{}");
    record.complete();
  }
  EXPECT_EQ(claimed_error(out, false), out +
                                           ": holds an export; choose another --out or pass "
                                           "--overwrite");
  testing::write_file(out + "/d/mine.txt", "mine");
  EXPECT_NE(claimed_error(out, true).find(out + "/d/mine.txt: not written by electra export"),
            std::string::npos);
  EXPECT_TRUE(fs::exists(out + "/d/deep/w.bin"));  // nothing removed while a user file is there
  fs::remove(out + "/d/mine.txt");
  EXPECT_EQ(claimed_error(out, true), "");
  EXPECT_FALSE(fs::exists(out + "/d"));
  EXPECT_FALSE(fs::exists(out + "/results.json"));
}

TEST(OutputRecord, AnotherCommandsOutputIsRefused) {
  testing::TempDir dir;
  {
    OutputRecord record = OutputRecord::open(dir.path().string(), "prepare");
    write_file_atomically(dir / "manifest.json", "{}");
  }
  EXPECT_NE(claimed_error(dir.path().string(), true).find("holds the output of electra prepare"),
            std::string::npos);
  EXPECT_TRUE(fs::exists(dir / "manifest.json"));
}

}  // namespace
}  // namespace electra::data
