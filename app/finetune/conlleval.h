// Chunk (and entity) F1 exactly as the CoNLL-2000 shared task's conlleval script computes it: a
// chunk starts and ends where its tag's prefix and type say so (the script's startOfChunk and
// endOfChunk, which read BIO/IOB2, IOB1 and IOE alike: an I- after O or after another type starts
// a chunk), and a guessed chunk counts when it starts and ends with a gold chunk of the same type.
// Micro precision, recall and F1 over all chunks, the same per type, and token accuracy.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace electra::finetune {

struct ChunkCounts {
  long correct = 0;          // guessed chunks equal to a gold chunk
  long guessed = 0;          // chunks in the predictions
  long gold = 0;             // chunks in the gold tags
  double precision() const;  // percent, as conlleval prints (0 without guessed chunks)
  double recall() const;
  double f1() const;
};

struct ChunkScore {
  ChunkCounts all;
  std::map<std::string, ChunkCounts> by_type;
  long tokens = 0, correct_tags = 0;
  double accuracy() const;  // percent of tokens whose whole tag is right
  nlohmann::json to_json() const;
};

// One sentence: gold and predicted tags, the same length ("O", "B-NP", "I-PP", ...; a tag's
// prefix is what precedes its first '-', its type the rest, so types may hold hyphens).
struct TaggedSentence {
  std::vector<std::string> gold, predicted;
};

// Throws std::invalid_argument when a sentence's two sequences differ in length.
ChunkScore conlleval(const std::vector<TaggedSentence>& sentences);

}  // namespace electra::finetune
