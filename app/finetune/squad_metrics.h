// SQuAD's metrics as its official evaluation scripts compute them (evaluate-v1.1.py and
// evaluate-v2.0.py): the answer normalisation (lower case, ASCII punctuation removed, the
// articles a/an/the removed as whole words, whitespace collapsed, all with Python 3's Unicode
// rules), exact match and token F1 against each gold answer (the best counts), and the v2.0
// summary with its no-answer threshold search.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace electra::finetune {

enum class SquadVersion { kV1, kV2 };

// normalize_answer of the official scripts: lower -> remove punctuation -> remove articles ->
// collapse whitespace. Lower case and whitespace as Python's str.lower() and str.split() (full
// Unicode case mapping, final sigma included; Unicode whitespace); articles bounded as Python's
// re \b (letters, numbers and '_' are word characters).
std::string normalize_answer(const std::string& text);

// The normalised answer's tokens (str.split()).
std::vector<std::string> answer_tokens(const std::string& text);

// 1 when the normalised texts are equal.
double exact_match(const std::string& prediction, const std::string& gold);
// Token F1 (bag of tokens). v1.1: 0 when no token is shared (so 0 when both normalise to
// nothing); v2.0: when either side has no token, 1 if both have none, else 0.
double token_f1(const std::string& prediction, const std::string& gold, SquadVersion version);

struct AnswerScore {
  double exact = 0, f1 = 0;
};
// The best exact match and the best F1 over the gold answers (each maximised on its own, as the
// scripts do). v2.0: an unanswerable question's gold is [""] (only an empty prediction scores).
AnswerScore score_answer(const std::string& prediction, const std::vector<std::string>& golds,
                         SquadVersion version);

struct SquadQuestion {
  std::string id;
  std::vector<std::string> answers;  // empty: unanswerable (v2.0)
};

// evaluate-v1.1.py's result: {"exact_match", "f1"} in percent over `questions`; a question
// without a prediction counts 0 (the script warns and goes on) and is counted in "unanswered".
nlohmann::json squad_v1_metrics(const std::vector<SquadQuestion>& questions,
                                const std::map<std::string, std::string>& predictions);

// evaluate-v2.0.py's result: exact, f1, total, HasAns_exact/f1/total, NoAns_exact/f1/total (when
// there are such questions) and, given no-answer probabilities (`na_probs`, by id), the
// threshold applied first (a question whose probability exceeds `na_threshold` (1.0) is predicted
// unanswerable) and best_exact, best_exact_thresh, best_f1, best_f1_thresh: the search over
// thresholds of the script's find_best_thresh. Every question needs a prediction (an empty
// string: no answer); a missing one counts as "" and in "unanswered".
nlohmann::json squad_v2_metrics(const std::vector<SquadQuestion>& questions,
                                const std::map<std::string, std::string>& predictions,
                                const std::map<std::string, double>& na_probs = {},
                                double na_threshold = 1.0);

}  // namespace electra::finetune
