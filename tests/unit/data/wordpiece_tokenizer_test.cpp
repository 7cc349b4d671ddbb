#include <gtest/gtest.h>

#include "data/wordpiece_tokenizer.h"

namespace electra::data {
namespace {

std::shared_ptr<const Vocabulary> small_vocab() {
  return std::make_shared<const Vocabulary>(Vocabulary::from_tokens(
      {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "hello", ",", "!",
       "cafe",  "北",    "京",    "a",     "##b",    "ab", "i",     "##̇",     "x",     "$"}));
}

std::string pieces(const WordPieceTokenizer& tokenizer, std::string_view text) {
  std::vector<int32_t> ids;
  tokenizer.encode(text, ids);
  std::string out;
  for (int32_t id : ids) out += (out.empty() ? "" : " ") + tokenizer.vocab().token(id);
  return out;
}

TEST(WordPieceTokenizer, GreedyLongestMatchWithContinuations) {
  WordPieceTokenizer tokenizer(small_vocab(), true);
  EXPECT_EQ(pieces(tokenizer, "unaffable"), "un ##aff ##able");
  EXPECT_EQ(pieces(tokenizer, "ab abb"), "ab ab ##b");
  EXPECT_EQ(pieces(tokenizer, "unaffablez"), "[UNK]");  // an unmatched part: the whole word
}

TEST(WordPieceTokenizer, NormalisesLikeBert) {
  WordPieceTokenizer uncased(small_vocab(), true);
  EXPECT_EQ(pieces(uncased, "Hello,HELLO!"), "hello , hello !");
  EXPECT_EQ(pieces(uncased, "Caf\u00e9"), "cafe");                        // accents stripped
  EXPECT_EQ(pieces(uncased, "x\u200b\u0007x"), "[UNK]");                  // Cf, Cc dropped: "xx"
  EXPECT_EQ(pieces(uncased, "x\u00a0x\u3000x"), "x x x");                 // Unicode spaces split
  EXPECT_EQ(pieces(uncased, "a\u5317\u4eacb"), "a \u5317 \u4eac [UNK]");  // CJK split off
  EXPECT_EQ(pieces(uncased, "x$x"), "x $ x");                             // ASCII punctuation
  EXPECT_EQ(pieces(uncased, "x\xff\xfex"), "[UNK]");                      // invalid UTF-8 dropped
  WordPieceTokenizer cased(small_vocab(), false);
  EXPECT_EQ(pieces(cased, "Hello cafe Caf\u00e9"), "[UNK] cafe [UNK]");
}

// Each piece's bytes in the text: its word's (so "unaffable" gives its three pieces the same).
std::string spans(const WordPieceTokenizer& tokenizer, std::string_view text) {
  std::vector<int32_t> ids{2};  // a [CLS] before: padded with an empty span
  std::vector<TokenSpan> spans;
  tokenizer.encode_with_spans(text, ids, spans);
  EXPECT_EQ(ids.size(), spans.size());
  std::string out;
  for (const auto& span : spans) {
    out += (out.empty() ? "" : " ") + std::to_string(span.begin) + "-" + std::to_string(span.end);
  }
  return out;
}

TEST(WordPieceTokenizer, SpansGiveTheBytesEachPieceCameFrom) {
  WordPieceTokenizer uncased(small_vocab(), true);
  // [CLS] hello , hello !
  EXPECT_EQ(spans(uncased, "Hello,HELLO!"), "0-0 0-5 5-6 6-11 11-12");
  // "Café" has a 2-byte é; the pieces of "unaffable" have their own characters.
  EXPECT_EQ(spans(uncased, " Caf\u00e9  unaffable"), "0-0 1-6 8-10 10-13 13-17");
  // Where normalising changed the number of characters (an accent stripped from "Unäffable"),
  // the pieces share the word's bytes; so do those of an unknown word.
  EXPECT_EQ(spans(uncased, "Una\u0308ffable"), "0-0 0-11 0-11 0-11");
  EXPECT_EQ(spans(uncased, "unaffablez"), "0-0 0-10");
  // CJK characters are words of their own (3 bytes each); a special token keeps its bytes.
  EXPECT_EQ(spans(uncased, "a\u5317\u4eac [MASK]x"), "0-0 0-1 1-4 4-7 8-14 14-15");
  // A dropped control character inside a word stays inside its span.
  EXPECT_EQ(spans(uncased, "x\u0007x"), "0-0 0-3");
  // The ids are those of encode().
  std::vector<int32_t> plain, with_spans;
  std::vector<TokenSpan> ignored;
  uncased.encode("Un-affable, Caf\u00e9!", plain);
  uncased.encode_with_spans("Un-affable, Caf\u00e9!", with_spans, ignored);
  EXPECT_EQ(plain, with_spans);
}

TEST(WordPieceTokenizer, SpecialTokensInTextStayWhole) {
  WordPieceTokenizer tokenizer(small_vocab(), true);
  EXPECT_EQ(pieces(tokenizer, "hello[MASK]hello [SEP] [mask]"),
            "hello [MASK] hello [SEP] [UNK] [UNK] [UNK]");  // "[", "mask", "]"
}

TEST(WordPieceTokenizer, SpecialTokensInTextCanBeReadAsPlainText) {
  WordPieceTokenizer tokenizer(small_vocab(), true, BertPreTokenizer::SpecialTokens::kSplit);
  EXPECT_EQ(pieces(tokenizer, "hello[MASK]"), "hello [UNK] [UNK] [UNK]");  // "[", "mask", "]"
}

TEST(WordPieceTokenizer, OverLongWordIsUnknown) {
  WordPieceTokenizer tokenizer(small_vocab(), true);
  const std::string word = "a" + std::string(99, 'b');  // 100 characters: still split
  EXPECT_EQ(pieces(tokenizer, word).substr(0, 12), "ab ##b ##b #");
  EXPECT_EQ(pieces(tokenizer, word + "b"), "[UNK]");
}

TEST(WordPieceTokenizer, PairsGetClsAndSep) {
  WordPieceTokenizer tokenizer(small_vocab(), true);
  std::string_view second = "cafe";
  auto ids = tokenizer.encode_with_specials("hello", &second);
  EXPECT_EQ(ids, (std::vector<int32_t>{2, 8, 3, 11, 3}));
}

}  // namespace
}  // namespace electra::data
