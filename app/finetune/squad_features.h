// SQuAD examples as model inputs, as BERT's and ELECTRA's run_squad build them: [CLS] question
// [SEP] context window [SEP], the question cut to `max_query_len` tokens, the context in windows
// of up to max_seq_len - question - 3 tokens that start `doc_stride` tokens apart (the last one
// reaching the context's end), each token's bytes in the context kept so a predicted span maps
// back to the original text, and for each token whether this window gives it the most context
// (BERT's _check_is_max_context, used when decoding). For training, the answer's first and last
// token in each window that holds all of it, else [CLS] (position 0), as for v2.0's impossible
// questions.
#pragma once

#include <cstdint>
#include <vector>

#include "app/finetune/squad_reader.h"
#include "data/wordpiece_tokenizer.h"

namespace electra::finetune {

struct SquadFeatureOptions {
  int64_t max_seq_len = 384, doc_stride = 128, max_query_len = 64;
};

struct SquadFeature {
  size_t example = 0;                           // index into SquadFile::examples
  int window = 0;                               // its number among the example's windows
  std::vector<int32_t> input_ids, segment_ids;  // segment 0: [CLS] question [SEP]; 1: the rest
  int64_t context_begin = 0;                    // position of the window's first context token
  int64_t context_offset = 0;                   // index of that token among the context's tokens
  std::vector<data::TokenSpan> spans;  // per position: bytes in the context (empty outside it)
  std::vector<uint8_t> max_context;    // per position: 1 where this window is the token's best
  int64_t start = 0, end = 0;          // training target positions (0, 0: no answer here)
};

struct SquadFeatureStats {
  long examples = 0, features = 0;
  long long_questions = 0;     // questions cut to max_query_len
  long skipped_unaligned = 0;  // training examples whose answer is not where it says
};

// Throws std::invalid_argument naming the option when the windows cannot be built (a
// max_seq_len not above max_query_len + 3, a doc_stride below 1).
std::vector<SquadFeature> squad_features(const SquadFile& file,
                                         const data::WordPieceTokenizer& tokenizer,
                                         const SquadFeatureOptions& options, bool training,
                                         SquadFeatureStats* stats = nullptr);

}  // namespace electra::finetune
