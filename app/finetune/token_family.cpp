// Token tagging (CoNLL chunking and NER, CoNLL-U POS): each word's label on its first piece ->
// the PositionHeadModel's logits per position; cross-entropy over the labelled positions; every
// word predicted once (tag_encoding.h); token accuracy and conlleval's chunk F1; predictions
// written back in the input's own layout (tagged_text.h).
#include <ATen/Functions.h>

#include <algorithm>
#include <map>

#include "app/finetune/conlleval.h"
#include "app/finetune/tag_encoding.h"
#include "app/finetune/task_family.h"
#include "app/finetune/task_losses.h"

namespace electra::finetune {
namespace {

std::map<std::string, int32_t> label_ids(const LabelSet& labels) {
  std::map<std::string, int32_t> ids;
  for (const auto& label : labels.labels()) ids.emplace(label, int32_t(ids.size()));
  return ids;
}

TrainingRows rows_of(const std::vector<TagFeature>& features, size_t first, size_t last) {
  std::vector<const std::vector<int32_t>*> ids, labels;
  for (size_t f = first; f < last; ++f) {
    ids.push_back(&features[f].input_ids);
    labels.push_back(&features[f].labels);
  }
  TrainingRows rows = padded_inputs(ids);
  rows.targets = {padded_rows(labels, kIgnoredLabel)};
  return rows;
}

// Chunk tags (B-, I-, E-, S- prefixes, as conlleval reads them) get chunk F1; others (POS) only
// accuracy.
bool has_chunk_tags(const LabelSet& labels) {
  return std::any_of(labels.labels().begin(), labels.labels().end(), [](const std::string& tag) {
    return tag.size() > 2 && tag[1] == '-' && std::string("BIES").find(tag[0]) != std::string::npos;
  });
}

std::string format_name(TagFormat format) {
  return format == TagFormat::kConllu ? "conllu" : "conll";
}

class TokenFamily : public TaskFamily {
 public:
  explicit TokenFamily(const data::WordPieceTokenizer& tokenizer) : tokenizer_(tokenizer) {}

  TrainingRows read_training(const std::string& path, FinetunedModel& finetuned,
                             std::string& summary) override {
    const TagFile file = read_tag_file(path, finetuned.format, finetuned.tags.tag_column);
    finetuned.format = format_name(file.format);
    finetuned.tags.tag_column = file.tag_column;
    const std::map<std::string, int32_t> labels = tag_labels(file);
    std::vector<std::string> names(labels.size());
    for (const auto& [tag, id] : labels) names[size_t(id)] = tag;
    finetuned.labels = LabelSet(std::move(names));
    if (finetuned.labels.size() < 2) {
      throw std::runtime_error(path + ": a tagging task needs at least two distinct tags (column " +
                               std::to_string(file.tag_column) + "); choose it with --tag-column");
    }
    TagEncodingStats stats;
    const std::vector<TagFeature> features = encode_tagged(
        file, tokenizer_, labels, finetuned.max_seq_len, finetuned.tags.stride, &stats);
    summary = finetuned.format + " tagging (tag column " + std::to_string(file.tag_column) + "), " +
              std::to_string(file.sentences.size()) + " train sentences, " +
              std::to_string(stats.words) + " words, " + std::to_string(labels.size()) + " tags; " +
              std::to_string(stats.windowed_sentences) + " sentences longer than " +
              std::to_string(finetuned.max_seq_len) + " tokens go in windows (" +
              std::to_string(stats.windowed_words) + " words beyond the first); " +
              std::to_string(stats.empty_words) + " words without pieces read as [UNK]";
    return rows_of(features, 0, features.size());
  }

  at::Tensor loss(const at::Tensor& logits, const std::vector<at::Tensor>& targets) override {
    return token_loss(logits, targets.at(0));
  }

  std::string read_evaluation(const FinetunedModel& finetuned, const std::string& path) override {
    auto found = cache_.find(path);
    if (found == cache_.end()) {
      Encoded encoded;
      encoded.file = read_tag_file(path, finetuned.format, finetuned.tags.tag_column);
      encoded.features =
          encode_tagged(encoded.file, tokenizer_, label_ids(finetuned.labels),
                        finetuned.max_seq_len, finetuned.tags.stride, &encoded.stats);
      found = cache_.emplace(path, std::move(encoded)).first;
    }
    const TagEncodingStats& stats = found->second.stats;
    std::string text =
        std::to_string(stats.sentences) + " sentences, " + std::to_string(stats.words) + " words";
    if (stats.unknown_tags > 0) {
      text += ", " + std::to_string(stats.unknown_tags) +
              " words with a tag unseen in training (counted as errors)";
    }
    if (stats.windowed_sentences > 0) {
      text += ", " + std::to_string(stats.windowed_sentences) + " sentences in windows";
    }
    return text;
  }

  Evaluation evaluate(FinetunedModel& finetuned, const std::string& path, long long batch_size,
                      dist::Communicator& communicator) override {
    read_evaluation(finetuned, path);
    const auto found = cache_.find(path);
    const TagFile& file = found->second.file;
    const std::vector<TagFeature>& features = found->second.features;
    const auto [first_sentence, last_sentence] = rank_share(file.sentences.size(), communicator);
    size_t first = 0;
    while (first < features.size() && features[first].sentence < first_sentence) ++first;
    size_t last = first;
    while (last < features.size() && features[last].sentence < last_sentence) ++last;
    // [sentence - first_sentence][word] -> label id
    std::vector<std::vector<int>> predicted(last_sentence - first_sentence);
    for (size_t s = first_sentence; s < last_sentence; ++s) {
      predicted[s - first_sentence].assign(file.sentences[s].words.size(), 0);
    }
    predict_batches(finetuned, rows_of(features, first, last), batch_size,
                    [&](long long offset, const at::Tensor& logits) {
                      const at::Tensor best = logits.argmax(-1).contiguous();  // [b, L]
                      const auto b = best.accessor<int64_t, 2>();
                      for (int64_t i = 0; i < best.size(0); ++i) {
                        const TagFeature& feature = features[first + size_t(offset + i)];
                        auto& words = predicted[feature.sentence - first_sentence];
                        for (size_t p = 0; p < feature.words.size(); ++p) {
                          if (feature.words[p] < 0) continue;
                          words[size_t(feature.words[p])] = int(b[i][int64_t(p)]);
                        }
                      }
                    });
    Evaluation evaluation;
    std::vector<std::vector<std::string>> tags;
    for (const std::string& text : communicator.gather_to_root(nlohmann::json(predicted).dump())) {
      for (const auto& sentence : nlohmann::json::parse(text)) {
        tags.emplace_back();
        for (int id : sentence) tags.back().push_back(finetuned.labels.labels().at(size_t(id)));
      }
    }
    if (!communicator.is_root()) return evaluation;
    evaluation.predictions = with_predictions(file, tags);
    evaluation.examples = (long long)file.sentences.size();
    evaluation.rows = (long long)features.size();
    std::vector<TaggedSentence> scored;
    for (size_t s = 0; s < file.sentences.size(); ++s) {
      scored.push_back({file.sentences[s].tags, tags[s]});
    }
    const ChunkScore score = conlleval(scored);
    evaluation.metrics = {{"accuracy", score.accuracy()},
                          {"words", score.tokens},
                          {"sentences", file.sentences.size()},
                          {"unknown_tags", found->second.stats.unknown_tags},
                          {"windowed_sentences", found->second.stats.windowed_sentences}};
    if (has_chunk_tags(finetuned.labels)) {
      const nlohmann::json chunks = score.to_json();
      for (const auto& [key, value] : chunks.items()) {
        if (key != "accuracy") evaluation.metrics[key] = value;
      }
    }
    return evaluation;
  }

  std::string default_metric(const FinetunedModel& finetuned) const override {
    return has_chunk_tags(finetuned.labels) ? "f1" : "accuracy";
  }

  std::string predictions_name(const std::string& split) const override {
    return split + "_predictions.txt";
  }

 private:
  struct Encoded {
    TagFile file;
    std::vector<TagFeature> features;
    TagEncodingStats stats;
  };
  const data::WordPieceTokenizer& tokenizer_;
  std::map<std::string, Encoded> cache_;
};

}  // namespace

std::unique_ptr<TaskFamily> token_family(const data::WordPieceTokenizer& tokenizer) {
  return std::make_unique<TokenFamily>(tokenizer);
}

}  // namespace electra::finetune
