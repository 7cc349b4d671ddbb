#include "app/finetune/squad_metrics.h"

#include <unicode/locid.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <numeric>
#include <unordered_map>

#include "data/utf8.h"

namespace electra::finetune {
namespace {

// Python's str.isspace(): bidirectional class WS, B or S, or category Zs.
bool is_space(char32_t c) {
  const UCharDirection direction = u_charDirection(UChar32(c));
  return direction == U_WHITE_SPACE_NEUTRAL || direction == U_BLOCK_SEPARATOR ||
         direction == U_SEGMENT_SEPARATOR || u_charType(UChar32(c)) == U_SPACE_SEPARATOR;
}

// A word character of Python's re on str (\w): alphanumeric (letters L*, numbers N*) or '_'.
bool is_word(char32_t c) {
  if (c == '_') return true;
  switch (u_charType(UChar32(c))) {
    case U_UPPERCASE_LETTER:
    case U_LOWERCASE_LETTER:
    case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER:
    case U_OTHER_LETTER:
    case U_DECIMAL_DIGIT_NUMBER:
    case U_LETTER_NUMBER:
    case U_OTHER_NUMBER:
      return true;
    default:
      return false;
  }
}

// string.punctuation: the 32 ASCII punctuation characters.
bool is_ascii_punctuation(char32_t c) {
  return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
         (c >= 0x7B && c <= 0x7E);
}

std::u32string decode(const std::string& text) {
  std::u32string out;
  uint64_t invalid = 0;
  for (const char *p = text.data(), *end = p + text.size(); p < end;) {
    out.push_back(data::decode_utf8(p, end, invalid));
  }
  return out;
}

// Python's str.lower(): the full lower-case mapping with the final-sigma rule (ICU, root locale).
std::string lower(const std::string& text) {
  std::string out;
  icu::UnicodeString::fromUTF8(text).toLower(icu::Locale::getRoot()).toUTF8String(out);
  return out;
}

}  // namespace

std::vector<std::string> answer_tokens(const std::string& text) {
  // lower, then punctuation out, then the articles (whole words) become spaces, then split.
  std::u32string chars;
  for (char32_t c : decode(lower(text))) {
    if (!is_ascii_punctuation(c)) chars.push_back(c);
  }
  for (size_t i = 0; i < chars.size();) {
    if (!is_word(chars[i])) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < chars.size() && is_word(chars[end])) ++end;
    const std::u32string word = chars.substr(i, end - i);
    if (word == U"a" || word == U"an" || word == U"the") {
      std::fill(chars.begin() + long(i), chars.begin() + long(end), U' ');
    }
    i = end;
  }
  std::vector<std::string> tokens;
  std::string token;
  for (char32_t c : chars) {
    if (is_space(c)) {
      if (!token.empty()) tokens.push_back(std::move(token));
      token.clear();
    } else {
      data::append_utf8(token, c);
    }
  }
  if (!token.empty()) tokens.push_back(std::move(token));
  return tokens;
}

std::string normalize_answer(const std::string& text) {
  const std::vector<std::string> tokens = answer_tokens(text);
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
  return out;
}

double exact_match(const std::string& prediction, const std::string& gold) {
  return normalize_answer(prediction) == normalize_answer(gold) ? 1.0 : 0.0;
}

double token_f1(const std::string& prediction, const std::string& gold, SquadVersion version) {
  const std::vector<std::string> predicted = answer_tokens(prediction), truth = answer_tokens(gold);
  if (version == SquadVersion::kV2 && (predicted.empty() || truth.empty())) {
    return predicted == truth ? 1.0 : 0.0;
  }
  std::unordered_map<std::string, long> counts;
  for (const auto& token : truth) ++counts[token];
  long same = 0;
  for (const auto& token : predicted) {
    auto found = counts.find(token);
    if (found != counts.end() && found->second > 0) --found->second, ++same;
  }
  if (same == 0) return 0.0;
  const double precision = double(same) / double(predicted.size());
  const double recall = double(same) / double(truth.size());
  return 2 * precision * recall / (precision + recall);
}

AnswerScore score_answer(const std::string& prediction, const std::vector<std::string>& golds,
                         SquadVersion version) {
  std::vector<std::string> candidates;
  for (const auto& gold : golds) {
    // v2.0 keeps only gold answers that normalise to something; none left: unanswerable.
    if (version == SquadVersion::kV1 || !normalize_answer(gold).empty()) candidates.push_back(gold);
  }
  if (version == SquadVersion::kV2 && candidates.empty()) candidates.push_back("");
  AnswerScore best;
  for (const auto& gold : candidates) {
    best.exact = std::max(best.exact, exact_match(prediction, gold));
    best.f1 = std::max(best.f1, token_f1(prediction, gold, version));
  }
  return best;
}

nlohmann::json squad_v1_metrics(const std::vector<SquadQuestion>& questions,
                                const std::map<std::string, std::string>& predictions) {
  double exact = 0, f1 = 0;
  long unanswered = 0;
  for (const auto& question : questions) {
    const auto found = predictions.find(question.id);
    if (found == predictions.end()) {
      ++unanswered;
      continue;
    }
    const AnswerScore score = score_answer(found->second, question.answers, SquadVersion::kV1);
    exact += score.exact, f1 += score.f1;
  }
  const double total = double(std::max<size_t>(questions.size(), 1));
  return {{"exact_match", 100.0 * exact / total},
          {"f1", 100.0 * f1 / total},
          {"total", questions.size()},
          {"unanswered", unanswered}};
}

nlohmann::json squad_v2_metrics(const std::vector<SquadQuestion>& questions,
                                const std::map<std::string, std::string>& predictions,
                                const std::map<std::string, double>& na_probs,
                                double na_threshold) {
  struct Scored {
    const SquadQuestion* question;
    const std::string* prediction;
    bool has_answer;
    AnswerScore raw;
    double na_prob;
  };
  std::vector<Scored> scored;
  long unanswered = 0, no_answer_questions = 0;
  for (const auto& question : questions) {
    const bool has_answer = !question.answers.empty();
    no_answer_questions += has_answer ? 0 : 1;
    const auto found = predictions.find(question.id);
    if (found == predictions.end()) {  // the script reports it and leaves it out
      ++unanswered;
      continue;
    }
    const auto probability = na_probs.find(question.id);
    scored.push_back({&question, &found->second, has_answer,
                      score_answer(found->second, question.answers, SquadVersion::kV2),
                      probability == na_probs.end() ? 0.0 : probability->second});
  }
  // apply_no_ans_threshold: predicted unanswerable when the probability exceeds the threshold.
  const auto thresholded = [&](const Scored& s) {
    if (!na_probs.empty() && s.na_prob > na_threshold) {
      const double right = s.has_answer ? 0.0 : 1.0;
      return AnswerScore{right, right};
    }
    return s.raw;
  };
  const auto summary = [&](auto&& keep) {
    double exact = 0, f1 = 0;
    long total = 0;
    for (const auto& s : scored) {
      if (!keep(s)) continue;
      const AnswerScore score = thresholded(s);
      exact += score.exact, f1 += score.f1, ++total;
    }
    const double denominator = double(std::max<long>(total, 1));
    return std::tuple{100.0 * exact / denominator, 100.0 * f1 / denominator, total};
  };
  nlohmann::json out;
  {
    auto [exact, f1, total] = summary([](const Scored&) { return true; });
    out = {{"exact", exact}, {"f1", f1}, {"total", total}, {"unanswered", unanswered}};
  }
  for (const bool has : {true, false}) {
    auto [exact, f1, total] = summary([&](const Scored& s) { return s.has_answer == has; });
    if (total == 0) continue;
    const std::string prefix = has ? "HasAns_" : "NoAns_";
    out[prefix + "exact"] = exact, out[prefix + "f1"] = f1, out[prefix + "total"] = total;
  }
  if (!na_probs.empty() && !scored.empty()) {
    // find_best_thresh: start from "every question unanswerable" and lower the threshold through
    // the questions in the order of their probabilities (ties: in the questions' order).
    std::vector<size_t> order(scored.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return scored[a].na_prob < scored[b].na_prob; });
    for (const bool f1 : {false, true}) {
      double current = double(no_answer_questions), best = current, threshold = 0.0;
      for (size_t i : order) {
        const Scored& s = scored[i];
        if (s.has_answer) {
          current += f1 ? s.raw.f1 : s.raw.exact;
        } else {
          current += s.prediction->empty() ? 0.0 : -1.0;
        }
        if (current > best) best = current, threshold = s.na_prob;
      }
      const std::string name = f1 ? "best_f1" : "best_exact";
      out[name] = 100.0 * best / double(scored.size());
      out[name + "_thresh"] = threshold;
    }
  }
  return out;
}

}  // namespace electra::finetune
