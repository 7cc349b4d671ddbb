#include "app/train/corpus_start.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Functions.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <numeric>
#include <stdexcept>
#include <tuple>

#include "data/number_text.h"
#include "data/seed_hash.h"
#include "data/token_counts.h"
#include "dist/peer_watch.h"

namespace electra::train {
namespace {

// A PPMI spectrum is flat around the cut (the quickstart corpus: singular values 74.3 at 61, 72.4
// at 70), so the range needs many extra directions and power iterations: with dims extra and 16
// iterations the rows' dot products are within 0.5% of the exact SVD's there in a numpy run of
// this algorithm (relative Frobenius norm; 4 iterations and 16 extra: 41%), and this code's rows
// within 3% of bench/corpus_counts.py's exact ones; seconds instead of the exact SVD's minute.
constexpr int kPowerIterations = 16;
constexpr uint64_t kSvdSalt = 0x5FD0;
// How long the other ranks wait for rank 0's counting (at least; --peer-timeout when longer).
constexpr double kCountingWaitSeconds = 1800;

at::Tensor orthonormal_columns(const at::Tensor& y) {
  return std::get<0>(at::linalg_qr(y, "reduced"));
}

// Seen token ids, and the `contexts` most frequent of them (ties by id) as the columns.
struct RowsAndColumns {
  std::vector<int32_t> row_of, column_of;  // [V], -1 where not one
  std::vector<int64_t> seen_ids;
  long long columns = 0;
};

RowsAndColumns rows_and_columns(const std::vector<int64_t>& counts, long long contexts) {
  RowsAndColumns r;
  r.row_of.assign(counts.size(), -1), r.column_of.assign(counts.size(), -1);
  for (size_t id = 0; id < counts.size(); ++id) {
    if (counts[id] > 0)
      r.row_of[id] = int32_t(r.seen_ids.size()), r.seen_ids.push_back(int64_t(id));
  }
  std::vector<int64_t> by_count = r.seen_ids;
  std::stable_sort(by_count.begin(), by_count.end(),
                   [&](int64_t a, int64_t b) { return counts[size_t(a)] > counts[size_t(b)]; });
  r.columns = std::min<long long>(contexts, (long long)by_count.size());
  for (long long c = 0; c < r.columns; ++c) r.column_of[size_t(by_count[size_t(c)])] = int32_t(c);
  return r;
}

// The count-based vectors [V, E] (zero rows for tokens without one) and which tokens have one: a
// token the counted rows show, but never beside a context token more often than chance, has a
// zero PPMI row, and keeps its random row as an unseen one does.
std::pair<at::Tensor, at::Tensor> count_based_rows(
    const data::CountedRows& counted, const data::TokenCounts& counts, const TrainConfig& config,
    const data::Vocabulary& vocab, bool lowercase, const CorpusStartSettings& settings,
    const at::Device& device, nlohmann::json& record) {
  const RowsAndColumns shape = rows_and_columns(counts.counts, settings.contexts);
  const auto rows = int64_t(shape.seen_ids.size());
  at::Tensor cooccurrences = at::zeros({rows, shape.columns}, at::kInt);
  data::count_cooccurrences(counted, vocab, lowercase, settings.window, shape.row_of,
                            shape.column_of, cooccurrences.data_ptr<int32_t>(), shape.columns);
  at::Tensor pmi = positive_pmi(cooccurrences);
  cooccurrences.reset();
  const at::Tensor nonzero = pmi.sum(1).gt(0);  // decided before the SVD's rounding
  pmi = pmi.to(device);
  at::Tensor vectors =
      leading_components(pmi, config.model.embedding_size, data::mix_seed(config.seed, kSvdSalt))
          .cpu();
  pmi.reset();
  vectors.index_put_({nonzero.logical_not()}, 0.0);
  const double spread = vectors.index({nonzero}).std(/*unbiased=*/false).item<double>();
  if (spread > 0) vectors.mul_(config.model.initializer_range / spread);
  const auto vocab_size = int64_t(counts.counts.size());
  const at::Tensor ids = at::tensor(shape.seen_ids, at::kLong);
  at::Tensor word_rows = at::zeros({vocab_size, config.model.embedding_size});
  word_rows.index_copy_(0, ids, vectors);
  at::Tensor has_row = at::zeros({vocab_size}, at::kBool);
  has_row.index_copy_(0, ids, nonzero);
  record["window"] = settings.window, record["contexts"] = shape.columns;
  record["dims"] = config.model.embedding_size;
  record["rows_set"] = has_row.sum().item<int64_t>();
  return {word_rows, has_row};
}

// Rank 0's result on the wire: "E" + error text, or "S" + a JSON header line + the tensors' bytes.
void append_bytes(std::string& wire, const at::Tensor& t) {
  const at::Tensor c = t.contiguous();
  wire.append(static_cast<const char*>(c.data_ptr()), size_t(c.numel() * c.element_size()));
}

std::string encode(const CorpusStart& start) {
  const nlohmann::json header = {{"record", start.record},
                                 {"vocab", start.seen.size(0)},
                                 {"dims", start.word_rows.defined() ? start.word_rows.size(1) : 0},
                                 {"bias", start.output_bias.defined()}};
  std::string wire = "S" + header.dump() + "\n";
  append_bytes(wire, start.seen.to(at::kByte));
  if (start.word_rows.defined()) append_bytes(wire, start.word_rows);
  if (start.output_bias.defined()) append_bytes(wire, start.output_bias);
  return wire;
}

CorpusStart decode(const std::string& wire) {
  const size_t line_end = wire.find('\n');
  const nlohmann::json header = nlohmann::json::parse(wire.substr(1, line_end - 1));
  const auto vocab = header["vocab"].get<int64_t>(), dims = header["dims"].get<int64_t>();
  size_t at = line_end + 1;
  const auto take = [&](std::vector<int64_t> shape, at::ScalarType type) {
    at::Tensor t = at::empty(shape, type);
    const size_t bytes = size_t(t.numel() * t.element_size());
    if (at + bytes > wire.size()) throw std::runtime_error("the corpus start arrived truncated");
    std::memcpy(t.data_ptr(), wire.data() + at, bytes);
    at += bytes;
    return t;
  };
  CorpusStart start;
  start.record = header["record"];
  start.seen = take({vocab}, at::kByte).to(at::kBool);
  if (dims > 0) start.word_rows = take({vocab, dims}, at::kFloat);
  if (header["bias"].get<bool>()) start.output_bias = take({vocab}, at::kFloat);
  return start;
}

}  // namespace

at::Tensor positive_pmi(const at::Tensor& counts) {
  const at::Tensor row_sums = counts.sum(1, /*keepdim=*/true, at::kDouble);
  const at::Tensor column_sums = counts.sum(0, /*keepdim=*/true, at::kDouble);
  const double total = row_sums.sum().item<double>();
  at::Tensor pmi = counts.to(at::kFloat).log_();  // -inf where the count is 0
  pmi.add_(std::log(std::max(total, 1.0)))
      .sub_(row_sums.log().to(at::kFloat))
      .sub_(column_sums.log().to(at::kFloat));
  return pmi.clamp_min_(0).nan_to_num_(0, 0, 0);  // a row or column without pairs: 0
}

at::Tensor leading_components(const at::Tensor& matrix, int64_t dims, uint64_t seed) {
  const int64_t n = matrix.size(0), m = matrix.size(1);
  at::Tensor out = at::zeros({n, dims}, matrix.options());
  const int64_t k = std::min({dims, n, m});
  if (k == 0) return out;
  const int64_t directions = std::min({2 * k, n, m});
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);  // the same on any device
  const at::Tensor omega = at::randn({m, directions}, generator, at::kFloat).to(matrix.options());
  at::Tensor q = orthonormal_columns(matrix.mm(omega));
  for (int i = 0; i < kPowerIterations; ++i) {
    q = orthonormal_columns(matrix.mm(orthonormal_columns(matrix.t().mm(q))));
  }
  const auto [u, s, vh] = at::linalg_svd(q.t().mm(matrix), /*full_matrices=*/false);
  out.narrow(1, 0, k).copy_(q.mm(u.narrow(1, 0, k)) * s.narrow(0, 0, k).sqrt());
  return out;
}

at::Tensor unigram_log_prior(std::vector<int64_t> counts,
                             const std::vector<int32_t>& never_predicted) {
  for (const int32_t id : never_predicted) {
    if (id >= 0 && size_t(id) < counts.size()) counts[size_t(id)] = 0;
  }
  const double total = double(std::accumulate(counts.begin(), counts.end(), int64_t(0)));
  const double denominator = total + double(counts.size());
  at::Tensor prior = at::empty({int64_t(counts.size())}, at::kFloat);
  float* out = prior.data_ptr<float>();
  for (size_t id = 0; id < counts.size(); ++id) {
    out[id] = float(std::log((double(counts[id]) + 1) / denominator));
  }
  return prior;
}

CorpusStart corpus_start(const TrainConfig& config, const data::Vocabulary& vocab, bool lowercase,
                         const at::Device& device, const CorpusStartSettings& settings) {
  const data::CountedRows counted{config.data_dir, settings.max_tokens};
  const data::TokenCounts counts = data::count_tokens(counted, vocab, lowercase);
  if (counts.tokens == 0) {
    throw std::runtime_error("--data " + config.data_dir +
                             ": its training rows hold no tokens to count for the start from the "
                             "corpus's counts; prepare a corpus with text, or start as the paper "
                             "does with --word-rows-init random --output-bias-init zero");
  }
  CorpusStart start;
  start.seen =
      at::tensor(std::vector<int64_t>(counts.counts.begin(), counts.counts.end()), at::kLong).gt(0);
  start.record = {{"tokens", counts.tokens},
                  {"rows", counts.rows},
                  {"split_rows", counts.split_rows},
                  {"distinct_tokens", start.seen.sum().item<int64_t>()}};
  if (config.word_rows_init == "ppmi") {
    std::tie(start.word_rows, start.seen) =
        count_based_rows(counted, counts, config, vocab, lowercase, settings, device, start.record);
  }
  if (config.output_bias_init == "unigram") {
    const auto& s = vocab.special();
    start.output_bias = unigram_log_prior(counts.counts, {s.pad, s.cls, s.sep, s.mask});
    start.record["bias_range"] = {start.output_bias.min().item<double>(),
                                  start.output_bias.max().item<double>()};
  }
  return start;
}

CorpusStart shared_corpus_start(dist::Communicator& communicator, const TrainConfig& config,
                                const data::Vocabulary& vocab, bool lowercase,
                                const at::Device& device) {
  std::string wire;
  std::exception_ptr failure;
  if (communicator.is_root()) {
    try {
      wire = encode(corpus_start(config, vocab, lowercase, device));
    } catch (...) {
      failure = std::current_exception();
      wire = "E";
    }
  }
  if (communicator.size() > 1) {
    // Rank 0 is busy, not silent: this one wait has a deadline of its own.
    struct LongerDeadline {
      dist::PeerWatch* watch;
      double usual = watch ? watch->timeout_seconds() : 0;
      LongerDeadline(dist::PeerWatch* w) : watch(w) {
        if (watch) watch->set_timeout(std::max(usual, kCountingWaitSeconds));
      }
      ~LongerDeadline() {
        if (watch) watch->set_timeout(usual);
      }
    } longer{communicator.peer_watch()};
    dist::NamedWaits waits(communicator, "the start from the corpus's counts (rank 0 counts)");
    wire = communicator.broadcast_from_root(wire);
  }
  if (failure) std::rethrow_exception(failure);  // rank 0's own error, as it was raised
  if (wire.empty() || wire[0] == 'E') {
    throw std::runtime_error(
        "rank 0 could not make the start from the corpus's counts; see rank 0's error");
  }
  return decode(wire);
}

void apply_corpus_start(const CorpusStart& start, model::ElectraModelImpl& model) {
  torch::NoGradGuard no_grad;
  if (start.word_rows.defined()) {
    for (const auto& embeddings : {model.embeddings, model.generator_embeddings}) {
      if (!embeddings) continue;
      at::Tensor table = embeddings->word_embeddings->weight;  // shares the storage
      const at::Tensor ids = start.seen.nonzero().squeeze(1);
      table.index_copy_(0, ids.to(table.device()),
                        start.word_rows.index_select(0, ids).to(table.device(), table.dtype()));
      table[model.config.pad_token_id].zero_();
    }
  }
  if (start.output_bias.defined()) {
    model.generator->output_bias.copy_(start.output_bias);
  }
}

std::string describe(const CorpusStart& start) {
  const nlohmann::json& r = start.record;
  std::string text = "counted " + data::with_commas(r["tokens"].get<long long>()) + " tokens (" +
                     data::with_commas(r["distinct_tokens"].get<long long>()) + " distinct) in " +
                     data::with_commas(r["rows"].get<long long>()) + " of " +
                     data::with_commas(r["split_rows"].get<long long>()) + " training rows";
  if (start.word_rows.defined()) {
    text += "; word rows from their PPMI with the " +
            data::with_commas(r["contexts"].get<long long>()) + " most frequent within " +
            std::to_string(r["window"].get<int>()) + " places, SVD to " +
            std::to_string(r["dims"].get<long long>()) + " dimensions for " +
            data::with_commas(r["rows_set"].get<long long>()) +
            " tokens (the others keep random rows)";
  }
  if (start.output_bias.defined()) {
    char range[64];
    std::snprintf(range, sizeof range, "%.2f to %.2f", r["bias_range"][0].get<double>(),
                  r["bias_range"][1].get<double>());
    text += "; output bias at the log unigram prior (" + std::string(range) + ")";
  }
  return text;
}

}  // namespace electra::train
