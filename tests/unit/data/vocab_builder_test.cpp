#include <gtest/gtest.h>

#include <algorithm>

#include "data/text_line_reader.h"
#include "data/vocab_builder.h"
#include "data/wordpiece_tokenizer.h"

namespace electra::data {
namespace {

TEST(VocabBuilder, SpecialsThenAlphabetThenMerges) {
  WordCounter counter(true);
  counter.add_text("low lower lowest LOW newer newest [MASK] wide");
  VocabBuilderOptions options;
  options.vocab_size = 40;
  options.min_frequency = 2;
  const auto vocab = build_wordpiece_vocab(counter.counts(), options);
  ASSERT_GE(vocab.size(), 5u);
  EXPECT_EQ(std::vector<std::string>(vocab.begin(), vocab.begin() + 5),
            (std::vector<std::string>{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}));
  auto has = [&](const std::string& token) {
    return std::find(vocab.begin(), vocab.end(), token) != vocab.end();
  };
  EXPECT_TRUE(has("l") && has("##o") && has("##w"));
  EXPECT_TRUE(has("lo") && has("low"));  // "lo" occurs 4 times, then "low"
  EXPECT_FALSE(has("wide"));             // occurs once: below min_frequency
  EXPECT_EQ(build_wordpiece_vocab(counter.counts(), options), vocab);  // reproducible
}

TEST(VocabBuilder, RefusesASizeBelowTheAlphabet) {
  WordCounter counter(true);
  counter.add_text("abcdefghij");
  VocabBuilderOptions options;
  options.vocab_size = 10;
  EXPECT_THROW(build_wordpiece_vocab(counter.counts(), options), std::runtime_error);
}

// Tokens per word and [UNK] rate of `tokenizer` on a text file.
std::pair<double, double> tokens_per_word_and_unknown(const WordPieceTokenizer& tokenizer,
                                                      const std::string& path) {
  TextLineReader reader(path, 1 << 20);
  std::string_view line;
  long long tokens = 0, words = 0, unknown = 0;
  const int32_t unk = tokenizer.vocab().special().unk;
  while (reader.next(line)) {
    std::vector<int32_t> ids;
    tokenizer.encode(line, ids);
    for (int32_t id : ids) {
      tokens += 1, unknown += id == unk;
      words += tokenizer.vocab().token(id).compare(0, 2, "##") != 0;
    }
  }
  return {double(tokens) / double(words), double(unknown) / double(tokens)};
}

TEST(VocabBuilder, LearnedVocabularyTokenizesHeldOutEnglishLikeBert) {
  // Learn 16k pieces from the State of the Union sample, tokenize Moby-Dick (held out).
  const std::string sample = std::string(ELECTRA_DATA_DIR) + "/sample/";
  WordCounter counter(true);
  TextLineReader reader(sample + "sotu_recent.txt", 1 << 20);
  std::string_view line;
  while (reader.next(line)) counter.add_text(line);
  VocabBuilderOptions options;
  options.vocab_size = 16000;
  auto learned = std::make_shared<const Vocabulary>(
      Vocabulary::from_tokens(build_wordpiece_vocab(counter.counts(), options)));
  auto bert = std::make_shared<const Vocabulary>(
      Vocabulary::load(std::string(ELECTRA_DATA_DIR) + "/vocab/bert-base-uncased-vocab.txt"));
  const auto [ours_ratio, ours_unknown] =
      tokens_per_word_and_unknown(WordPieceTokenizer(learned, true), sample + "mobydick.txt");
  const auto [bert_ratio, bert_unknown] =
      tokens_per_word_and_unknown(WordPieceTokenizer(bert, true), sample + "mobydick.txt");
  std::cout << "tokens per word: learned " << ours_ratio << ", BERT " << bert_ratio
            << "; [UNK] rate: learned " << ours_unknown << ", BERT " << bert_unknown << "\n";
  EXPECT_LT(ours_unknown, 0.001);
  EXPECT_LT(ours_ratio / bert_ratio, 1.15);
  EXPECT_GT(ours_ratio / bert_ratio, 0.95);
}

}  // namespace
}  // namespace electra::data
