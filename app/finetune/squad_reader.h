// SQuAD files (v1.1 and v2.0 JSON: data -> articles -> paragraphs -> qas), read into one example
// per question with its context. Answer offsets (`answer_start`, in characters as Python counts
// them: code points) become byte offsets into the UTF-8 context; an answer whose text is not at
// its offset is kept as a gold text (the official evaluation scores texts only) but marked
// unaligned and counted, and cannot be a training target.
#pragma once

#include <string>
#include <vector>

#include "app/finetune/squad_metrics.h"

namespace electra::finetune {

struct SquadAnswer {
  std::string text;
  long start = 0;        // byte offset of the answer in the context
  bool aligned = false;  // the context holds `text` at `start`
};

struct SquadExample {
  std::string id, title, question, context;
  std::vector<SquadAnswer> answers;            // v2.0: empty when impossible
  bool impossible = false;                     // v2.0's is_impossible
  std::vector<SquadAnswer> plausible_answers;  // v2.0, for impossible questions
};

struct SquadFile {
  std::string path;
  SquadVersion version = SquadVersion::kV1;
  std::vector<SquadExample> examples;
  long articles = 0;
  long unaligned_answers = 0;              // answers whose text is not at answer_start
  std::vector<std::string> unaligned_ids;  // the first few questions with such an answer
};

// Throws std::runtime_error naming the file and, for a bad field, the article (number and
// title) or the question id: not JSON (with the byte offset), a missing or mistyped field, an
// answer_start outside its context, a duplicate question id, no question at all. The version is
// the file's "version" field ("1.1", "v2.0", ...) or, without one, v2.0 when any question has
// is_impossible.
SquadFile read_squad_file(const std::string& path);

// The questions with their gold answer texts, for squad_v1_metrics / squad_v2_metrics.
std::vector<SquadQuestion> squad_questions(const SquadFile& file);

}  // namespace electra::finetune
