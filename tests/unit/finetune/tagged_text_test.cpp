// Reading CoNLL column files and CoNLL-U, and writing predictions back in their layout.
#include <gtest/gtest.h>

#include "app/finetune/tagged_text.h"
#include "test_util.h"

namespace electra::finetune {
namespace {

using electra::testing::TempDir;
using electra::testing::write_file;

using electra::testing::thrown_message;

TEST(TaggedText, ConllColumnsSentencesAndDocstart) {
  TempDir dir;
  const std::string path = (dir / "train.txt");
  write_file(path,
             "-DOCSTART- -X- O\n\nConfidence NN B-NP\nin IN B-PP\n\n\nthe DT B-NP\npound NN "
             "I-NP\n");
  const TagFile file = read_tag_file(path);
  EXPECT_EQ(file.format, TagFormat::kConll);
  EXPECT_EQ(file.docstart_lines, 1);
  ASSERT_EQ(file.sentences.size(), 2u);
  EXPECT_EQ(file.sentences[0].words, (std::vector<std::string>{"Confidence", "in"}));
  EXPECT_EQ(file.sentences[0].tags, (std::vector<std::string>{"B-NP", "B-PP"}));
  EXPECT_EQ(file.sentences[0].first_line, 3);
  EXPECT_EQ(file.sentences[1].first_line, 7);
  EXPECT_EQ(file.tag_column, 3);  // the last by default
  // --tag-column 2: the POS tags.
  EXPECT_EQ(read_tag_file(path, "auto", 2).sentences[1].tags,
            (std::vector<std::string>{"DT", "NN"}));
  // Predictions appended, as conlleval reads them.
  EXPECT_EQ(with_predictions(file, {{"B-NP", "O"}, {"B-NP", "I-NP"}}),
            "Confidence NN B-NP B-NP\nin IN B-PP O\n\nthe DT B-NP B-NP\npound NN I-NP I-NP\n\n");
}

TEST(TaggedText, ConlluCommentsRangesAndEmptyNodes) {
  TempDir dir;
  const std::string path = (dir / "dev.conllu");
  write_file(path,
             "# sent_id = 1\n# text = I "
             "don't\n1\tI\tI\tPRON\tPRP\t_\t2\tnsubj\t_\t_\n2-3\tdon't\t_\t_\t_\t_\t_\t_\t_\t_"
             "\n2\tdo\tdo\tAUX\tVBP\t_"
             "\t0\troot\t_\t_\n3\tn't\tnot\tPART\tRB\t_\t2\tadvmod\t_\t_\n3.1\tgo\tgo\tVERB"
             "\t_\t_\t_\t_\t2:conj\t_\n\n");
  const TagFile file = read_tag_file(path);
  EXPECT_EQ(file.format, TagFormat::kConllu);
  EXPECT_EQ(file.tag_column, 4);
  ASSERT_EQ(file.sentences.size(), 1u);
  // The syntactic words, not the range "don't" or the empty node.
  EXPECT_EQ(file.sentences[0].words, (std::vector<std::string>{"I", "do", "n't"}));
  EXPECT_EQ(file.sentences[0].tags, (std::vector<std::string>{"PRON", "AUX", "PART"}));
  EXPECT_EQ(read_tag_file(path, "conllu", 5).sentences[0].tags,
            (std::vector<std::string>{"PRP", "VBP", "RB"}));
  const std::string written = with_predictions(file, {{"PRON", "VERB", "PART"}});
  EXPECT_NE(written.find("# text = I don't\n"), std::string::npos);
  EXPECT_NE(written.find("2-3\tdon't\t_"), std::string::npos);
  EXPECT_NE(written.find("2\tdo\tdo\tVERB\tVBP\t_\t0\troot\t_\t_\n"), std::string::npos) << written;
  EXPECT_NE(written.find("3.1\tgo"), std::string::npos);
}

TEST(TaggedText, BadFilesAreNamedWithTheirLine) {
  TempDir dir;
  const std::string conll = (dir / "bad.txt");
  write_file(conll, "a DT B-NP\nb NN\n");
  EXPECT_EQ(thrown_message([&] { read_tag_file(conll); }),
            conll + ":2: 2 columns, but the sentence's first line has 3");
  write_file(conll, "a DT B-NP\n");
  EXPECT_NE(
      thrown_message([&] { read_tag_file(conll, "conll", 4); }).find(conll + ":1: --tag-column 4"),
      std::string::npos);
  const std::string conllu = (dir / "bad.conllu");
  write_file(conllu, "1\ta\ta\tDET\t_\t_\t0\troot\t_\t_\n3\tb\tb\tNOUN\t_\t_\t1\tdep\t_\t_\n");
  EXPECT_EQ(thrown_message([&] { read_tag_file(conllu); }),
            conllu + ":2: word ID 3 where 2 was due (a blank line must end each sentence)");
  write_file(conllu, "1\ta\ta\tDET\n");
  EXPECT_EQ(thrown_message([&] { read_tag_file(conllu); }),
            conllu + ":1: a CoNLL-U word line has 10 tab-separated fields, this one 4");
  write_file(conllu, "x\ta\ta\tDET\t_\t_\t0\troot\t_\t_\n");
  EXPECT_NE(thrown_message([&] { read_tag_file(conllu); }).find(":1: ID 'x'"), std::string::npos);
  write_file(conll, "\n\n");
  EXPECT_NE(thrown_message([&] { read_tag_file(conll); }).find("no tagged sentence"),
            std::string::npos);
  EXPECT_NE(thrown_message([&] {
              read_tag_file((dir / "missing.txt"));
            }).find("missing.txt: no such file"),
            std::string::npos);
  EXPECT_THROW(read_tag_file(conll, "iob"), std::invalid_argument);
}

}  // namespace
}  // namespace electra::finetune
