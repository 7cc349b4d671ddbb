#include "data/vocab_builder.h"

#include <algorithm>
#include <map>
#include <queue>
#include <stdexcept>

#include "data/utf8.h"
#include "data/vocabulary.h"

namespace electra::data {
namespace {

// The pre-tokenizer takes a vocabulary for its special tokens, which are split here: "[MASK]"
// in a corpus is text to learn from, like BERT's data scripts read it.
const Vocabulary& specials_only_vocab() {
  static const Vocabulary vocab = Vocabulary::from_tokens(
      std::vector<std::string>(std::begin(kSpecialTokens), std::end(kSpecialTokens)));
  return vocab;
}

std::vector<std::string> split_characters(const std::string& word) {
  std::vector<std::string> characters;
  for (size_t i = 0; i < word.size();) {
    size_t next = i + 1;
    while (next < word.size() && (static_cast<unsigned char>(word[next]) & 0xC0) == 0x80) ++next;
    characters.push_back(word.substr(i, next - i));
    i = next;
  }
  return characters;
}

uint64_t pair_key(int32_t left, int32_t right) {
  return uint64_t(uint32_t(left)) << 32 | uint32_t(right);
}

// The merge state: each word as symbol ids, and the counts of adjacent symbol pairs.
class MergeTable {
 public:
  std::vector<std::string> symbols;                    // [symbol id] token text ("##" included)
  std::vector<std::vector<int32_t>> words;             // [word] symbol ids
  std::vector<long long> frequency;                    // [word]
  std::unordered_map<uint64_t, long long> pair_count;  // pair -> weighted occurrences
  std::unordered_map<uint64_t, std::vector<int32_t>> pair_words;  // pair -> words (may repeat)

  void count_pairs(int32_t word, long long sign) {
    const auto& pieces = words[size_t(word)];
    for (size_t i = 0; i + 1 < pieces.size(); ++i) {
      const uint64_t key = pair_key(pieces[i], pieces[i + 1]);
      pair_count[key] += sign * frequency[size_t(word)];
      if (sign > 0) pair_words[key].push_back(word);
    }
  }
};

}  // namespace

WordCounter::WordCounter(bool lowercase)
    : pre_tokenizer_(specials_only_vocab(), lowercase, BertPreTokenizer::SpecialTokens::kSplit) {}

void WordCounter::add_text(std::string_view text) {
  pre_tokenizer_.split(text, *this, &stats_);
}

std::vector<std::string> build_wordpiece_vocab(
    const std::unordered_map<std::string, long long>& word_counts,
    const VocabBuilderOptions& options) {
  // Alphabet: the most frequent characters (ties by text, for determinism).
  std::map<std::string, long long> character_counts;
  for (const auto& [word, count] : word_counts) {
    for (const auto& character : split_characters(word)) character_counts[character] += count;
  }
  std::vector<std::pair<std::string, long long>> alphabet(character_counts.begin(),
                                                          character_counts.end());
  std::stable_sort(alphabet.begin(), alphabet.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (alphabet.size() > options.limit_alphabet) alphabet.resize(options.limit_alphabet);

  MergeTable table;
  std::unordered_map<std::string, int32_t> symbol_ids;
  std::vector<std::string> vocab(std::begin(kSpecialTokens), std::end(kSpecialTokens));
  auto symbol = [&](const std::string& text) {
    auto [it, inserted] = symbol_ids.emplace(text, int32_t(table.symbols.size()));
    if (inserted) table.symbols.push_back(text), vocab.push_back(text);
    return it->second;
  };
  for (const auto& [character, count] : alphabet) symbol(character);
  for (const auto& [character, count] : alphabet) symbol("##" + character);
  if (vocab.size() > options.vocab_size) {
    throw std::runtime_error("--size " + std::to_string(options.vocab_size) +
                             " cannot hold the special tokens and the " +
                             std::to_string(alphabet.size()) +
                             " alphabet characters; raise --size or lower --limit-alphabet");
  }

  // Words in a fixed order (by text) so that the result does not depend on hashing.
  std::map<std::string, long long> ordered(word_counts.begin(), word_counts.end());
  for (const auto& [word, count] : ordered) {
    std::vector<int32_t> pieces;
    bool known = true;
    const auto characters = split_characters(word);
    for (size_t i = 0; i < characters.size() && known; ++i) {
      auto it = symbol_ids.find(i == 0 ? characters[i] : "##" + characters[i]);
      known = it != symbol_ids.end();
      if (known) pieces.push_back(it->second);
    }
    if (!known || pieces.size() < 2) continue;  // nothing to merge
    table.words.push_back(std::move(pieces));
    table.frequency.push_back(count);
    table.count_pairs(int32_t(table.words.size() - 1), +1);
  }

  // Highest count first; among equal counts the smaller key, so runs are reproducible.
  using Entry = std::pair<long long, uint64_t>;
  auto lower_priority = [](const Entry& a, const Entry& b) {
    return a.first != b.first ? a.first < b.first : a.second > b.second;
  };
  std::priority_queue<Entry, std::vector<Entry>, decltype(lower_priority)> heap(lower_priority);
  for (const auto& [key, count] : table.pair_count) heap.push({count, key});

  while (vocab.size() < options.vocab_size && !heap.empty()) {
    auto [count, key] = heap.top();
    heap.pop();
    const long long current = table.pair_count[key];
    if (current != count) {  // stale entry: requeue with its current count
      if (current > 0) heap.push({current, key});
      continue;
    }
    if (count < options.min_frequency) break;
    const auto left = int32_t(key >> 32), right = int32_t(key & 0xffffffffu);
    const std::string& right_text = table.symbols[size_t(right)];
    const int32_t merged =
        symbol(table.symbols[size_t(left)] +
               (right_text.compare(0, 2, "##") == 0 ? right_text.substr(2) : right_text));
    std::vector<int32_t> affected = std::move(table.pair_words[key]);
    table.pair_words.erase(key);
    std::sort(affected.begin(), affected.end());
    affected.erase(std::unique(affected.begin(), affected.end()), affected.end());
    for (int32_t word : affected) {
      auto& pieces = table.words[size_t(word)];
      table.count_pairs(word, -1);
      std::vector<int32_t> rebuilt;
      for (size_t i = 0; i < pieces.size(); ++i) {
        if (i + 1 < pieces.size() && pieces[i] == left && pieces[i + 1] == right) {
          rebuilt.push_back(merged), ++i;
        } else {
          rebuilt.push_back(pieces[i]);
        }
      }
      pieces = std::move(rebuilt);
      table.count_pairs(word, +1);
      for (size_t i = 0; i + 1 < pieces.size(); ++i) {
        const uint64_t changed = pair_key(pieces[i], pieces[i + 1]);
        if (pieces[i] == merged || pieces[i + 1] == merged) {
          heap.push({table.pair_count[changed], changed});
        }
      }
    }
    // Pairs that lost occurrences are requeued lazily when popped (their entry is then stale).
  }
  return vocab;
}

}  // namespace electra::data
