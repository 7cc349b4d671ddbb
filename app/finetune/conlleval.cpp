#include "app/finetune/conlleval.h"

#include <stdexcept>

namespace electra::finetune {
namespace {

struct Tag {
  std::string prefix, type;
};

// The script's split: /^([^-]*)-(.*)$/ gives prefix and type; a tag without '-' is all prefix.
Tag split(const std::string& tag) {
  const size_t dash = tag.find('-');
  if (dash == std::string::npos) return {tag, ""};
  return {tag.substr(0, dash), tag.substr(dash + 1)};
}

// endOfChunk: a chunk ended between the previous tag and this one.
bool end_of_chunk(const Tag& previous, const Tag& tag) {
  const std::string &p = previous.prefix, &t = tag.prefix;
  bool end = (p == "B" && t == "B") || (p == "B" && t == "O") || (p == "I" && t == "B") ||
             (p == "I" && t == "O") || (p == "E" && t == "E") || (p == "E" && t == "I") ||
             (p == "E" && t == "O");
  if (p != "O" && p != "." && previous.type != tag.type) end = true;
  if (p == "]" || p == "[") end = true;
  return end;
}

// startOfChunk: a chunk starts at this tag.
bool start_of_chunk(const Tag& previous, const Tag& tag) {
  const std::string &p = previous.prefix, &t = tag.prefix;
  bool start = (p == "B" && t == "B") || (p == "I" && t == "B") || (p == "O" && t == "B") ||
               (p == "O" && t == "I") || (p == "E" && t == "E") || (p == "E" && t == "I") ||
               (p == "O" && t == "E");
  if (t != "O" && t != "." && previous.type != tag.type) start = true;
  if (t == "[" || t == "]") start = true;
  return start;
}

double percent(long part, long whole) {
  return whole > 0 ? 100.0 * double(part) / double(whole) : 0.0;
}

nlohmann::json counts_json(const ChunkCounts& counts) {
  return {{"precision", counts.precision()}, {"recall", counts.recall()}, {"f1", counts.f1()},
          {"correct", counts.correct},       {"guessed", counts.guessed}, {"gold", counts.gold}};
}

}  // namespace

double ChunkCounts::precision() const {
  return percent(correct, guessed);
}
double ChunkCounts::recall() const {
  return percent(correct, gold);
}
double ChunkCounts::f1() const {
  const double p = precision(), r = recall();
  return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}

double ChunkScore::accuracy() const {
  return percent(correct_tags, tokens);
}

nlohmann::json ChunkScore::to_json() const {
  nlohmann::json out = counts_json(all);
  out["accuracy"] = accuracy();
  out["tokens"] = tokens;
  nlohmann::json types = nlohmann::json::object();
  for (const auto& [type, counts] : by_type) types[type] = counts_json(counts);
  out["by_type"] = types;
  return out;
}

ChunkScore conlleval(const std::vector<TaggedSentence>& sentences) {
  ChunkScore score;
  // The script's state across lines; a sentence boundary is a line tagged O O that is not a
  // token, so every sentence starts after an O.
  Tag last_gold{"O", ""}, last_guess{"O", ""};
  bool in_correct = false;
  const auto step = [&](const Tag& gold, const Tag& guess, bool token) {
    if (in_correct) {
      const bool gold_end = end_of_chunk(last_gold, gold),
                 guess_end = end_of_chunk(last_guess, guess);
      if (gold_end && guess_end && last_guess.type == last_gold.type) {
        in_correct = false;
        ++score.all.correct, ++score.by_type[last_gold.type].correct;
      } else if (gold_end != guess_end || guess.type != gold.type) {
        in_correct = false;
      }
    }
    const bool gold_start = start_of_chunk(last_gold, gold),
               guess_start = start_of_chunk(last_guess, guess);
    if (gold_start && guess_start && guess.type == gold.type) in_correct = true;
    if (gold_start) ++score.all.gold, ++score.by_type[gold.type].gold;
    if (guess_start) ++score.all.guessed, ++score.by_type[guess.type].guessed;
    if (token) {
      if (gold.prefix == guess.prefix && gold.type == guess.type) ++score.correct_tags;
      ++score.tokens;
    }
    last_gold = gold, last_guess = guess;
  };
  for (size_t s = 0; s < sentences.size(); ++s) {
    const TaggedSentence& sentence = sentences[s];
    if (sentence.gold.size() != sentence.predicted.size()) {
      throw std::invalid_argument("sentence " + std::to_string(s + 1) + " has " +
                                  std::to_string(sentence.gold.size()) + " gold tags but " +
                                  std::to_string(sentence.predicted.size()) + " predicted");
    }
    if (s > 0) step({"O", ""}, {"O", ""}, /*token=*/false);
    for (size_t i = 0; i < sentence.gold.size(); ++i) {
      step(split(sentence.gold[i]), split(sentence.predicted[i]), /*token=*/true);
    }
  }
  if (in_correct) ++score.all.correct, ++score.by_type[last_gold.type].correct;
  return score;
}

}  // namespace electra::finetune
