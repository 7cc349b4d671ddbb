// --word-rows-init ppmi and --output-bias-init unigram: a fresh pair that starts from what the
// training corpus's counts already say (issue 27). At CPU size, pretraining from the paper's
// initialisation leaves the word rows knowing no more about words than random ones
// (bench/lexicon_probe.py), and the generator spends its first steps learning the unigram
// frequencies into one shared direction of the rows. This start gives
// - the shared word rows (both tables when the pair does not share them) count-based token
//   vectors: each token's positive pointwise mutual information with the `contexts` most frequent
//   tokens within `window` places, reduced to the embedding size by SVD (U_k sqrt(S_k)) and scaled
//   to the initialisation's standard deviation; tokens the counted rows never show keep their
//   random rows;
// - the generator's output bias (mlm: the model's) the log of each token's add-one-smoothed
//   frequency, [PAD], [CLS], [SEP] and [MASK] counted as never seen (never a masked original).
// Measured with bench/learning_benefit.sh (README, issue 27).
#pragma once

#include <ATen/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/model/electra_model.h"
#include "app/train/train_config.h"
#include "data/vocabulary.h"
#include "dist/communicator.h"

namespace electra::train {

struct CorpusStartSettings {
  int window = 2;
  long long contexts = 5000;
  long long max_tokens = 100'000'000;  // positions (data::CountedRows)
};

struct CorpusStart {
  // [V] bool: the tokens the counted rows hold; with word_rows, those given a row (a token never
  // beside a context token more often than chance has none and keeps its random row)
  at::Tensor seen;
  at::Tensor word_rows;    // [V, E] float (zero where unseen), or undefined: random rows stay
  at::Tensor output_bias;  // [V] float, or undefined: zero stays
  nlohmann::json record;   // what was counted and made, for the line rank 0 prints
};

// Positive pointwise mutual information of co-occurrence counts [n, m] (int32):
// max(0, log(count x total / (row sum x column sum))), 0 where the count is 0; float.
at::Tensor positive_pmi(const at::Tensor& counts);

// The `dims` leading components of `matrix` [n, m] as row vectors U_k sqrt(S_k), [n, dims] (the
// columns past the matrix's rank zero): a randomised SVD (Halko, Martinsson and Tropp, 2011: the
// range of 2 x dims directions found by power iterations, then the exact SVD of the matrix
// projected onto it), seeded.
at::Tensor leading_components(const at::Tensor& matrix, int64_t dims, uint64_t seed);

// log((count + 1) / (total + V)) for every id, the counts of `never_predicted` taken as 0 (and
// left out of the total); float [V].
at::Tensor unigram_log_prior(std::vector<int64_t> counts,
                             const std::vector<int32_t>& never_predicted);

// From config.data_dir's training shards, as config.word_rows_init and config.output_bias_init
// ask, for config.model's sizes; the SVD on `device` (a GPU: seconds at any model size), the
// counting on the host. Throws naming the corpus when it holds no tokens to count.
CorpusStart corpus_start(const TrainConfig& config, const data::Vocabulary& vocab, bool lowercase,
                         const at::Device& device = at::kCPU,
                         const CorpusStartSettings& settings = {});

// Rank 0 computes it and every rank receives the same bytes. An error on rank 0 is raised on
// every rank: rank 0's own exception there, one pointing to it on the others. The others wait for
// rank 0 up to 30 minutes, or --peer-timeout when longer (dist/peer_watch.h; the main job's
// counting takes 11 s on one thread).
CorpusStart shared_corpus_start(dist::Communicator& communicator, const TrainConfig& config,
                                const data::Vocabulary& vocab, bool lowercase,
                                const at::Device& device = at::kCPU);

// Writes it into a freshly initialised model, on the model's device.
void apply_corpus_start(const CorpusStart& start, model::ElectraModelImpl& model);

// "the word rows from the corpus's counts (PPMI of ...), the output bias at ...": the line's text.
std::string describe(const CorpusStart& start);

}  // namespace electra::train
