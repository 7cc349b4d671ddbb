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

// Every GLUE file as GLUE distributes it, by its first lines: train, dev and test (no labels) of
// each task. SST-2, CoLA and STS-B train lines are copied from the files in ../shared/data/glue;
// MRPC's train lines from HuggingFace transformers' tests/fixtures/tests_samples/MRPC/train.tsv
// (there without GLUE's byte-order mark, put back here); the QQP, MNLI, QNLI, RTE and WNLI train
// rows are the first examples HuggingFace's GLUE dataset card shows, in GLUE's header and columns
// (MNLI's parse columns shortened: no reader looks at them). The test files: GLUE's headers, each
// with one row written here (MNLI's sentences from the card, its ids made up). RTE and WNLI share a
// header: the labels tell them apart.
TEST(TaskReader, TheFirstLinesOfEachRealGlueFile) {
  testing::TempDir dir;
  struct Case {
    std::string file, text, format, a, b, label;  // label "": unlabelled
    size_t examples;
  };
  const std::string mnli_parses =
      "( ( Conceptually ( cream skimming ) ) ...)\t( ( Product ...)\t"
      "(ROOT (S (NP ...)\t(ROOT (S (NP ...)\t";
  const std::vector<Case> cases = {
      {"CoLA/train.tsv",
       "gj04\t1\t\tOur friends won't buy this analysis, let alone the next one we propose.\n"
       "gj04\t1\t\tOne more pseudo generalization and I'm giving up.\n",
       "cola", "Our friends won't buy this analysis, let alone the next one we propose.", "", "1",
       2},
      {"CoLA/test.tsv", "index\tsentence\n0\tBill whistled past the house.\n", "sst-2",
       "Bill whistled past the house.", "", "", 1},
      {"SST-2/train.tsv",
       "sentence\tlabel\nhide new secretions from the parental units \t0\ncontains no wit , only "
       "labored gags \t0\n",
       "sst-2", "hide new secretions from the parental units ", "", "0", 2},
      {"SST-2/test.tsv", "index\tsentence\n0\tuneasy mishmash of styles and genres .\n", "sst-2",
       "uneasy mishmash of styles and genres .", "", "", 1},
      {"MRPC/train.tsv",
       "\xEF\xBB\xBFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
       "1\t1355540\t1355592\tHe said the foodservice pie business doesn 't fit the company 's "
       "long-term growth strategy .\t\" The foodservice pie business does not fit our long-term "
       "growth strategy .\n"
       "0\t2029631\t2029565\tMagnarelli said Racicot hated the Iraqi regime and looked forward to "
       "using his long years of training in the war .\tHis wife said he was \" 100 percent behind "
       "George Bush \" and looked forward to using his years of training in the war .\n",
       "mrpc",
       "He said the foodservice pie business doesn 't fit the company 's long-term growth "
       "strategy .",
       "\" The foodservice pie business does not fit our long-term growth strategy .", "1", 2},
      {"MRPC/test.tsv",
       "index\t#1 ID\t#2 ID\t#1 String\t#2 String\n0\t1089874\t1089925\tPCCW 's chief "
       "operating officer , Mike Butcher , and Alex Arena , the chief financial officer , will "
       "report directly to Mr So .\tCurrent Chief Operating Officer Mike Butcher and Group Chief "
       "Financial Officer Alex Arena will report to So .\n",
       "mrpc",
       "PCCW 's chief operating officer , Mike Butcher , and Alex Arena , the chief financial "
       "officer , will report directly to Mr So .",
       "Current Chief Operating Officer Mike Butcher and Group Chief Financial Officer Alex Arena "
       "will report to So .",
       "", 1},
      {"STS-B/train.tsv",
       "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n"
       "0\tmain-captions\tMSRvid\t2012test\t0001\tnone\tnone\tA plane is taking off.\tAn air plane "
       "is taking off.\t5.000\n"
       "1\tmain-captions\tMSRvid\t2012test\t0004\tnone\tnone\tA man is playing a large flute.\tA "
       "man is playing a flute.\t3.800\n",
       "sts-b", "A plane is taking off.", "An air plane is taking off.", "5.000", 2},
      {"STS-B/test.tsv",
       "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\n"
       "0\tmain-captions\tMSRvid\t2012test\t0024\tnone\tnone\tA girl is styling her hair.\tA girl "
       "is brushing her hair.\n",
       "sts-b", "A girl is styling her hair.", "A girl is brushing her hair.", "", 1},
      {"QQP/train.tsv",
       "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n"
       "133273\t213221\t213222\tHow is the life of a math student? Could you describe your own "
       "experiences?\tWhich level of prepration is enough for the exam jlpt5?\t0\n",
       "qqp", "How is the life of a math student? Could you describe your own experiences?",
       "Which level of prepration is enough for the exam jlpt5?", "0", 1},
      {"QQP/test.tsv",
       "id\tquestion1\tquestion2\n0\tHow do I learn to cook?\tWhat is the best way to learn "
       "cooking?\n",
       "qqp", "How do I learn to cook?", "What is the best way to learn cooking?", "", 1},
      {"MNLI/train.tsv",
       "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t"
       "sentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label\n"
       "0\t31193\t31193n\tgovernment\t" +
           mnli_parses +
           "Conceptually cream skimming has two basic dimensions - product and geography.\t"
           "Product and geography are what make cream skimming work. \tneutral\tneutral\n",
       "mnli", "Conceptually cream skimming has two basic dimensions - product and geography.",
       "Product and geography are what make cream skimming work. ", "neutral", 1},
      {"MNLI/dev_matched.tsv",
       "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t"
       "sentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tlabel2\tlabel3\tlabel4\t"
       "label5\tgold_label\n0\t63735\t63735n\tslate\t" +
           mnli_parses +
           "The new rights are nice enough\tEveryone really likes the newest benefits \tneutral\t"
           "entailment\tneutral\tneutral\tneutral\tneutral\n",
       "mnli", "The new rights are nice enough", "Everyone really likes the newest benefits ",
       "neutral", 1},
      {"MNLI/test_matched.tsv",
       "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t"
       "sentence1_parse\tsentence2_parse\tsentence1\tsentence2\n0\t31493\t31493\ttravel\t" +
           mnli_parses +
           "Hierbas, ans seco, ans dulce, and frigola are just a few names worth keeping a "
           "look-out for.\tHierbas is a name worth looking out for.\n",
       "mnli",
       "Hierbas, ans seco, ans dulce, and frigola are just a few names worth keeping a look-out "
       "for.",
       "Hierbas is a name worth looking out for.", "", 1},
      {"QNLI/train.tsv",
       "index\tquestion\tsentence\tlabel\n0\tWhen did the third Digimon series begin?\tUnlike the "
       "two seasons before it and most of the seasons that followed, Digimon Tamers takes a "
       "darker and more realistic approach to its story featuring Digimon who do not reincarnate "
       "after their deaths and more complex character development in the original Japanese."
       "\tnot_entailment\n",
       "qnli", "When did the third Digimon series begin?",
       "Unlike the two seasons before it and most of the seasons that followed, Digimon Tamers "
       "takes a darker and more realistic approach to its story featuring Digimon who do not "
       "reincarnate after their deaths and more complex character development in the original "
       "Japanese.",
       "not_entailment", 1},
      {"RTE/train.tsv",
       "index\tsentence1\tsentence2\tlabel\n0\tNo Weapons of Mass Destruction Found in Iraq Yet."
       "\tWeapons of Mass Destruction Found in Iraq.\tnot_entailment\n",
       "rte", "No Weapons of Mass Destruction Found in Iraq Yet.",
       "Weapons of Mass Destruction Found in Iraq.", "not_entailment", 1},
      {"RTE/test.tsv",
       "index\tsentence1\tsentence2\n0\tThe museum opened in 1928.\tThe museum is old.\n", "rte",
       "The museum opened in 1928.", "The museum is old.", "", 1},
      {"WNLI/train.tsv",
       "index\tsentence1\tsentence2\tlabel\n0\tI stuck a pin through a carrot. When I pulled the "
       "pin out, it had a hole.\tThe carrot had a hole.\t1\n",
       "wnli", "I stuck a pin through a carrot. When I pulled the pin out, it had a hole.",
       "The carrot had a hole.", "1", 1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    const TaskFile file = read(dir, c.text);
    EXPECT_EQ(file.format, c.format);
    ASSERT_EQ(file.examples.size(), c.examples);
    EXPECT_EQ(file.examples[0].text_a, c.a);
    EXPECT_EQ(file.examples[0].text_b, c.b);
    EXPECT_EQ(file.examples[0].label, c.label);
    EXPECT_EQ(file.labelled, !c.label.empty());
  }
  // Told the task (as sweep --glue does), WNLI's and CoLA's test files read in their layout.
  const TaskFile wnli_test = read(dir, "index\tsentence1\tsentence2\n0\tA.\tB.\n", "wnli");
  EXPECT_EQ(wnli_test.format, "wnli");
  EXPECT_FALSE(wnli_test.labelled);
  EXPECT_EQ(read(dir, "index\tsentence\n0\tBill whistled.\n", "cola").format, "cola");
}

// QQP's train.tsv has a few questions holding a line break, quoted as CSV does: the row stops
// inside the quote and the next line carries on. Read as one example, the quotes dropped.
TEST(TaskReader, AQuotedTextWithALineBreakIsOneExample) {
  testing::TempDir dir;
  const TaskFile file = read(dir,
                             "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n"
                             "1\t3\t4\tWhat is \"\"it\"\"?\tWhy?\t0\n"
                             "2\t5\t6\t\"How did it start?\n"
                             "\"\tWas it real? What is the evidence?\t0\n"
                             "3\t7\t8\tWho?\tWhen?\t1\n");
  ASSERT_EQ(file.examples.size(), 3u);
  EXPECT_EQ(file.examples[0].text_a, "What is \"\"it\"\"?");  // unquoted fields stay as written
  EXPECT_EQ(file.examples[1].text_a, "How did it start? ");
  EXPECT_EQ(file.examples[1].text_b, "Was it real? What is the evidence?");
  EXPECT_EQ(file.examples[1].label, "0");
  EXPECT_EQ(file.examples[2].label, "1");
  // A short row that is not a quoted text is still an error, at its own line.
  try {
    read(dir, "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n1\t3\t4\tHow?\n5\tWhy?\t0\n");
    FAIL() << "a short row was read";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("task.tsv:2: 4 tab-separated fields"), std::string::npos)
        << e.what();
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
