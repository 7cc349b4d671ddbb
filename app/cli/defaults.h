// The embedded defaults: the project's copy of BERT's uncased vocabulary and the sample corpus.
#pragma once

namespace electra::cli {

inline constexpr const char* kDefaultVocab = ELECTRA_DATA_DIR "/vocab/bert-base-uncased-vocab.txt";
inline constexpr const char* kSampleCorpusDir = ELECTRA_DATA_DIR "/sample";

}  // namespace electra::cli
