#include "data/bert_pre_tokenizer.h"

#include <unicode/uchar.h>
#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "data/utf8.h"
#include "data/vocabulary.h"

namespace electra::data {
namespace {

enum class CharClass : uint8_t { kDrop, kSpace, kPunct, kWordChar, kChinese };

// ASCII: \t \n \r and space separate words; other controls are dropped; ASCII punctuation
// (Rust's is_ascii_punctuation, which includes $ + < = > ^ ` | ~) is split off.
constexpr std::array<CharClass, 128> make_ascii_classes() {
  std::array<CharClass, 128> classes{};
  for (int c = 0; c < 128; ++c) {
    if (c == '\t' || c == '\n' || c == '\r' || c == ' ')
      classes[c] = CharClass::kSpace;
    else if (c < 0x20 || c == 0x7F)
      classes[c] = CharClass::kDrop;
    else if ((c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
             (c >= '{' && c <= '~'))
      classes[c] = CharClass::kPunct;
    else
      classes[c] = CharClass::kWordChar;
  }
  return classes;
}
constexpr std::array<CharClass, 128> kAsciiClasses = make_ascii_classes();

// The CJK ranges of BERT's _is_chinese_char (not Hangul, Hiragana or Katakana).
bool is_chinese(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// The general category as HuggingFace's normaliser and pre-tokenizer see it. They test
// "control/format/private use" (clean_text), "punctuation" and "nonspacing mark" (strip_accents)
// with the unicode_categories crate, whose tables are Unicode 8.0: a character assigned later is
// in none of its categories, and six older characters changed category since. Whitespace, case
// mapping and NFD come from current tables there as here. (An exhaustive test over every code
// point checks this against the reference.)
utf8proc_category_t reference_category(char32_t c) {
  switch (c) {  // category changes since Unicode 8.0 that the reference still has the old way
    case 0x166D:
      return UTF8PROC_CATEGORY_PO;  // So since 12.0
    case 0x111C9:
      return UTF8PROC_CATEGORY_PO;  // Mn since 11.0
    case 0x1734:
      return UTF8PROC_CATEGORY_MN;  // Mc since 14.0
    case 0x1885:
    case 0x1886:
      return UTF8PROC_CATEGORY_LO;  // Mn since 9.0
    case 0xA9BD:
      return UTF8PROC_CATEGORY_MC;  // Mn since 12.0
    default:
      break;
  }
  UVersionInfo age;
  u_charAge(UChar32(c), age);
  if (age[0] > 8 || (age[0] == 8 && age[1] > 0)) return UTF8PROC_CATEGORY_CN;
  return utf8proc_category_t(utf8proc_get_property(utf8proc_int32_t(c))->category);
}

// Class of a non-ASCII character after normalisation.
CharClass classify_normalized(char32_t c) {
  if (c < 0x80) return kAsciiClasses[c];
  switch (utf8proc_get_property(utf8proc_int32_t(c))->category) {  // Rust's is_whitespace: current
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
      return CharClass::kSpace;
    default:
      break;
  }
  switch (reference_category(c)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return CharClass::kPunct;
    default:
      return CharClass::kWordChar;
  }
}

// Class of a raw non-ASCII character before normalisation: clean_text drops U+FFFD and the
// "other" characters Cc, Cf, Co and Cs (unassigned code points, Cn, are kept, as HF keeps them).
CharClass classify_raw(char32_t c) {
  if (c == kReplacementChar) return CharClass::kDrop;
  switch (reference_category(c)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
      return CharClass::kDrop;
    default:
      return is_chinese(c) ? CharClass::kChinese : classify_normalized(c);
  }
}

// Normalises one character into `out` (at most a few code points): NFD without nonspacing
// marks, then full lowercase mapping (U+0130 is the one character whose lowercase is two).
int normalize_char(char32_t c, bool lowercase, char32_t* out) {
  if (!lowercase) return out[0] = c, 1;
  utf8proc_int32_t decomposed[16];
  int boundclass = 0;
  utf8proc_ssize_t n =
      utf8proc_decompose_char(utf8proc_int32_t(c), decomposed, 16, UTF8PROC_DECOMPOSE, &boundclass);
  if (n < 0 || n > 16) decomposed[0] = utf8proc_int32_t(c), n = 1;
  int count = 0;
  for (utf8proc_ssize_t i = 0; i < n; ++i) {
    utf8proc_int32_t d = decomposed[i];
    if (reference_category(char32_t(d)) == UTF8PROC_CATEGORY_MN) continue;
    if (d == 0x130) {
      out[count++] = 'i';
      out[count++] = 0x307;
    } else {
      out[count++] = char32_t(utf8proc_tolower(d));
    }
  }
  return count;
}

}  // namespace

BertPreTokenizer::BertPreTokenizer(const Vocabulary& vocab, bool lowercase,
                                   SpecialTokens special_tokens)
    : lowercase_(lowercase) {
  if (special_tokens == SpecialTokens::kSplit) return;
  for (const char* token : kSpecialTokens) {
    if (auto id = vocab.find(token)) specials_.push_back({token, *id});
  }
  std::sort(specials_.begin(), specials_.end(),
            [](const auto& a, const auto& b) { return a.text.size() > b.text.size(); });
}

void BertPreTokenizer::split(std::string_view text, WordSink& sink, TextStats* stats) const {
  TextStats local;
  TextStats& counts = stats ? *stats : local;
  size_t plain_start = 0;
  size_t pos = 0;
  while ((pos = text.find('[', pos)) != std::string_view::npos) {
    const SpecialToken* match = nullptr;
    for (const auto& special : specials_) {
      if (text.compare(pos, special.text.size(), special.text) == 0) {
        match = &special;
        break;
      }
    }
    if (!match) {
      ++pos;
      continue;
    }
    split_plain(text.substr(plain_start, pos - plain_start), plain_start, sink, counts);
    sink.on_special_token_at(match->id, pos, pos + match->text.size());
    pos += match->text.size();
    plain_start = pos;
  }
  split_plain(text.substr(plain_start), plain_start, sink, counts);
}

void BertPreTokenizer::split_plain(std::string_view text, size_t base, WordSink& sink,
                                   TextStats& stats) const {
  std::string word;
  // The bytes of `text` the word came from: [word_begin, word_end), and the character being read.
  size_t word_begin = 0, word_end = 0, char_begin = 0;
  const char* p = text.data();
  const char* end = p + text.size();
  auto flush = [&] {
    if (!word.empty()) sink.on_word_at(word, base + word_begin, base + word_end), word.clear();
  };
  // The character being read joins the word.
  auto extend = [&] {
    if (word.empty()) word_begin = char_begin;
    word_end = size_t(p - text.data());
  };
  auto emit_alone = [&](const char32_t* chars, int n) {
    flush();
    extend();
    for (int i = 0; i < n; ++i) append_utf8(word, chars[i]);
    flush();
  };
  while (p < end) {
    char_begin = size_t(p - text.data());
    unsigned char byte = static_cast<unsigned char>(*p);
    if (byte < 0x80) {  // fast path: ASCII needs no table lookups beyond this one
      ++p;
      switch (kAsciiClasses[byte]) {
        case CharClass::kWordChar:
          extend();
          word.push_back(lowercase_ && byte >= 'A' && byte <= 'Z' ? char(byte + 32) : char(byte));
          break;
        case CharClass::kSpace:
          flush();
          break;
        case CharClass::kPunct:
          flush();
          extend();
          word.push_back(char(byte));
          flush();
          break;
        default:
          break;
      }
      continue;
    }
    char32_t c = decode_utf8(p, end, stats.invalid_utf8);
    CharClass raw_class = classify_raw(c);
    if (raw_class == CharClass::kDrop) continue;
    if (raw_class == CharClass::kSpace) {
      flush();
      continue;
    }
    char32_t normalized[32];
    int n = normalize_char(c, lowercase_, normalized);
    if (raw_class == CharClass::kChinese) {
      emit_alone(normalized, n);
      continue;
    }
    for (int i = 0; i < n; ++i) {
      switch (classify_normalized(normalized[i])) {
        case CharClass::kSpace:
          flush();
          break;
        case CharClass::kPunct:
          emit_alone(&normalized[i], 1);
          break;
        default:
          extend();
          append_utf8(word, normalized[i]);
      }
    }
  }
  flush();
}

}  // namespace electra::data
