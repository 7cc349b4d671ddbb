// The task readers: GLUE layouts recognised from their headers (and CoLA's header-less files),
// the generic TSV, unlabelled test files, and errors that name the file and the line.
#include <gtest/gtest.h>

#include "data/task_reader.h"
#include "test_util.h"

namespace electra::data {
namespace {

TaskFile read(const testing::TempDir& dir, const std::string& text,
              const std::string& format = "auto") {
  const std::string path = (dir.path() / "task.tsv").string();
  testing::write_file(path, text);
  return read_task_file(path, format);
}

TEST(TaskReader, RecognisesEachGlueLayout) {
  testing::TempDir dir;
  struct Case {
    std::string text, format, a, b, label;
  };
  const std::vector<Case> cases = {
      {"gj04\t1\t\tOur friends won't buy this analysis.\n", "cola",
       "Our friends won't buy this analysis.", "", "1"},
      {"sentence\tlabel\nit 's a charming journey . \t1\n", "sst-2", "it 's a charming journey . ",
       "", "1"},
      {"Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t702876\t702977\tAmrozi accused\tReferring "
       "to him\n",
       "mrpc", "Amrozi accused", "Referring to him", "1"},
      {"index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n0"
       "\tmain-captions\tMSRvid\t2012test\t0001\tnone\tnone\tA plane is taking off.\tAn air plane "
       "is taking off.\t5.000\n",
       "sts-b", "A plane is taking off.", "An air plane is taking off.", "5.000"},
      {"id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n1\t3\t4\tHow?\tWhy?\t0\n", "qqp",
       "How?", "Why?", "0"},
      {"index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t"
       "sentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label\n0\t1\t2\tgov\t"
       "(a)\t(b)\t(A)\t(B)\tConceptually cream.\tProduct and geography.\tneutral\tneutral\n",
       "mnli", "Conceptually cream.", "Product and geography.", "neutral"},
      {"index\tquestion\tsentence\tlabel\n0\tWhen?\tIn 1990.\tentailment\n", "qnli", "When?",
       "In 1990.", "entailment"},
      {"index\tsentence1\tsentence2\tlabel\n0\tNo weapons.\tWeapons found.\tnot_entailment\n",
       "rte", "No weapons.", "Weapons found.", "not_entailment"},
      // MRPC's files as GLUE distributes them begin with a UTF-8 byte-order mark.
      {"\xEF\xBB\xBFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t702876\t702977\tAmrozi "
       "accused\tReferring to him\n",
       "mrpc", "Amrozi accused", "Referring to him", "1"},
      {"text\tlabel\nbuy now\t1\n", "generic", "buy now", "", "1"},
      {"text\ttext_b\tlabel\nfirst\tsecond\tyes\n", "generic", "first", "second", "yes"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.format);
    const TaskFile file = read(dir, c.text);
    EXPECT_EQ(file.format, c.format);
    ASSERT_EQ(file.examples.size(), 1u);
    EXPECT_EQ(file.examples[0].text_a, c.a);
    EXPECT_EQ(file.examples[0].text_b, c.b);
    EXPECT_EQ(file.examples[0].label, c.label);
    EXPECT_EQ(file.pairs, !c.b.empty());
    EXPECT_TRUE(file.labelled);
  }
}

TEST(TaskReader, TestFilesWithoutLabelsReadAsUnlabelled) {
  testing::TempDir dir;
  const TaskFile sst = read(dir, "index\tsentence\n0\tuneasy mishmash\n1\tgood\n");
  EXPECT_EQ(sst.format, "sst-2");
  EXPECT_FALSE(sst.labelled);
  EXPECT_EQ(sst.examples.size(), 2u);
  const TaskFile rte = read(dir, "index\tsentence1\tsentence2\n0\ta\tb\n");
  EXPECT_EQ(rte.format, "rte");
  EXPECT_FALSE(rte.labelled);
}

TEST(TaskReader, ErrorsNameTheFileAndTheLine) {
  testing::TempDir dir;
  const auto message = [&](const std::string& text, const std::string& format = "auto") {
    try {
      read(dir, text, format);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("text\tlabel\nfine\t1\nonly one field\n")
                .find("task.tsv:3: 1 tab-separated "
                      "fields, expected at least 2"),
            std::string::npos);
  EXPECT_NE(message("body\tclass\nx\t1\n").find("task.tsv:1: no text column"), std::string::npos);
  EXPECT_NE(message("text\tlabel\n\t1\n").find("task.tsv:2: empty text"), std::string::npos);
  EXPECT_NE(message("text\tlabel\nx\t\n").find("task.tsv:2: empty label"), std::string::npos);
  EXPECT_NE(message("text\tlabel\nx\t1\n", "squad").find("unknown task format 'squad'"),
            std::string::npos);
  EXPECT_NE(message("").find("the task file is empty"), std::string::npos);
}

TEST(TaskReader, LabelsOutsideAGlueTasksSetNameTheLine) {
  testing::TempDir dir;
  auto message = [&](const std::string& text, const std::string& format = "auto") {
    try {
      read(dir, text, format);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  // Line numbers count the blank line.
  EXPECT_NE(message("sentence\tlabel\ngood\t1\n\nbad\t2\n")
                .find("task.tsv:4: label '2' is not one of sst-2's (0, 1)"),
            std::string::npos);
  EXPECT_NE(message("index\tquestion\tsentence\tlabel\n0\tWhen?\tThen.\tmaybe\n")
                .find("label 'maybe' is not one of qnli's (entailment, not_entailment)"),
            std::string::npos);
  EXPECT_NE(message("sentence1\tsentence2\tscore\na\tb\tnan\n").find("task.tsv:2: score 'nan'"),
            std::string::npos);
  EXPECT_EQ(message("sentence\tlabel\ngood\tpos\n", "generic"), "");  // other labels: generic
}

}  // namespace
}  // namespace electra::data
