// Reading SQuAD v1.1 and v2.0 files: answers as byte offsets, unaligned answers counted, bad
// files named with the article or the question id.
#include <gtest/gtest.h>

#include "app/finetune/squad_reader.h"
#include "test_util.h"

namespace electra::finetune {
namespace {

using electra::testing::TempDir;
using electra::testing::write_file;

using electra::testing::thrown_message;

TEST(SquadReader, VersionOneWithCharacterOffsetsOverMultiByteText) {
  TempDir dir;
  const std::string path = dir / "v1.json";
  // "24–10" has a 3-byte en dash: "Denver" after it starts at character 13, byte 15.
  write_file(path, R"({"version": "1.1", "data": [{"title": "T", "paragraphs": [
    {"context": "Won 24\u201310 by Denver.", "qas": [
      {"id": "q1", "question": "Who?", "answers": [{"text": "Denver", "answer_start": 13},
                                                  {"text": "Denver", "answer_start": 3}]}]}]}]})");
  const SquadFile file = read_squad_file(path);
  EXPECT_EQ(file.version, SquadVersion::kV1);
  ASSERT_EQ(file.examples.size(), 1u);
  const SquadExample& example = file.examples[0];
  EXPECT_EQ(example.title, "T");
  EXPECT_EQ(example.answers[0].start, 15);
  EXPECT_TRUE(example.answers[0].aligned);
  EXPECT_EQ(example.context.substr(15, 6), "Denver");
  // The second answer's text is not at its offset: kept as a gold text, counted.
  EXPECT_FALSE(example.answers[1].aligned);
  EXPECT_EQ(file.unaligned_answers, 1);
  EXPECT_EQ(file.unaligned_ids, (std::vector<std::string>{"q1"}));
  EXPECT_EQ(squad_questions(file)[0].answers, (std::vector<std::string>{"Denver", "Denver"}));
}

TEST(SquadReader, VersionTwoImpossibleQuestionsAndPlausibleAnswers) {
  TempDir dir;
  const std::string path = dir / "v2.json";
  write_file(path, R"({"version": "v2.0", "data": [{"title": "T", "paragraphs": [
    {"context": "Paris is big.", "qas": [
      {"id": "a", "question": "Where?", "is_impossible": false,
       "answers": [{"text": "Paris", "answer_start": 0}]},
      {"id": "b", "question": "Why?", "is_impossible": true, "answers": [],
       "plausible_answers": [{"text": "big", "answer_start": 9}]}]}]}]})");
  const SquadFile file = read_squad_file(path);
  EXPECT_EQ(file.version, SquadVersion::kV2);
  ASSERT_EQ(file.examples.size(), 2u);
  EXPECT_FALSE(file.examples[0].impossible);
  EXPECT_TRUE(file.examples[1].impossible);
  EXPECT_TRUE(file.examples[1].answers.empty());
  EXPECT_EQ(file.examples[1].plausible_answers[0].start, 9);
  EXPECT_TRUE(file.examples[1].plausible_answers[0].aligned);
  EXPECT_TRUE(squad_questions(file)[1].answers.empty());
}

TEST(SquadReader, BadFilesAreNamedWithTheArticleOrTheQuestion) {
  TempDir dir;
  const std::string path = dir / "bad.json";
  const auto with_qas = [&](const std::string& qas) {
    write_file(path, R"({"data": [{"title": "Alpha", "paragraphs": [{"context": "abc", "qas": [)" +
                         qas + "]}]}]}");
    return thrown_message([&] { read_squad_file(path); });
  };
  EXPECT_EQ(with_qas(R"({"id": "q9", "answers": []})"),
            path + ": question q9 (article 1 ('Alpha')): no 'question' field");
  EXPECT_EQ(
      with_qas(R"({"id": "q9", "question": "?", "answers": [{"text": "a", "answer_start": 7}]})"),
      path +
          ": question q9 (article 1 ('Alpha')): answer_start 7 is outside its context of 3 "
          "characters");
  EXPECT_EQ(
      with_qas(R"({"id": "q9", "question": "?", "answers": [{"text": "a", "answer_start": "0"}]})"),
      path + ": question q9 (article 1 ('Alpha')): 'answer_start' has the wrong type (string)");
  EXPECT_NE(
      with_qas(
          R"({"id": "q", "question": "?", "answers": []}, {"id": "q", "question": "?", "answers": []})")
          .find("question q (article 1 ('Alpha')): the id is used twice"),
      std::string::npos);
  EXPECT_NE(with_qas(R"({"id": "q", "question": "?", "is_impossible": true,
                        "answers": [{"text": "a", "answer_start": 0}]})")
                .find("is_impossible is true but it has answers"),
            std::string::npos);
  EXPECT_EQ(with_qas(""), path + ": top level: no question in the file");
  write_file(path, R"({"data": [{"title": "Alpha", "paragraphs": [{"qas": []}]}]})");
  EXPECT_EQ(thrown_message([&] { read_squad_file(path); }),
            path + ": article 1 ('Alpha'), paragraph 1: no 'context' field");
  write_file(path, "{\"data\": [");
  EXPECT_NE(
      thrown_message([&] { read_squad_file(path); }).find(path + ": not valid JSON (near byte"),
      std::string::npos);
  EXPECT_NE(
      thrown_message([&] { read_squad_file(dir / "none.json"); }).find("none.json: no such file"),
      std::string::npos);
}

}  // namespace
}  // namespace electra::finetune
