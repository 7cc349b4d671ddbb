// Sentences of tagged words for token tagging, read from the two formats such data comes in:
// CoNLL column files (CoNLL-2000 chunking, CoNLL-2003 NER: a word per line, its columns
// separated by white space, a blank line between sentences, `-DOCSTART-` lines skipped) and
// CoNLL-U (Universal Dependencies: ten tab-separated fields per word, `#` comment lines,
// multi-word token ranges `3-4` and empty nodes `5.1`, which are kept for writing back but not
// tagged, as the format defines: the tagged units are the syntactic words). The lines read are
// kept, so predictions can be written back in the input's own layout.
#pragma once

#include <string>
#include <vector>

namespace electra::finetune {

enum class TagFormat { kConll, kConllu };

struct TagSentence {
  std::vector<std::string> words, tags;
  std::vector<std::string> lines;  // every line of the sentence as read (comments and ranges too)
  std::vector<size_t> word_lines;  // for each word, its index in `lines`
  long first_line = 0;             // 1-based line number of the sentence's first line
};

struct TagFile {
  std::string path;
  TagFormat format = TagFormat::kConll;
  int tag_column = 0;  // 1-based column of the tags
  std::vector<TagSentence> sentences;
  long docstart_lines = 0;  // CoNLL `-DOCSTART-` lines skipped
};

// Reads PATH as `format`: "conll", "conllu" or "auto" (CoNLL-U for a `.conllu` name or when the
// first word line has ten tab-separated fields and a numeric ID; CoNLL otherwise). `tag_column`
// (1-based; 0: the default) chooses the tag column: the last for CoNLL, UPOS (4) for CoNLL-U.
// Throws std::runtime_error naming the file and line for a missing file, a line with another
// number of columns than its sentence's first, a tag column beyond the line, a CoNLL-U line
// without ten fields or with an ID out of sequence, or a file without any sentence.
TagFile read_tag_file(const std::string& path, const std::string& format = "auto",
                      int tag_column = 0);

// The file's lines with the predictions written in (one vector of tags per sentence, one tag per
// word): CoNLL: each word line gets the predicted tag appended (conlleval's input: ..., gold,
// predicted); CoNLL-U: the tag column replaced by the prediction. Sentences are separated by
// blank lines. Throws std::invalid_argument when the counts differ from the file's.
std::string with_predictions(const TagFile& file,
                             const std::vector<std::vector<std::string>>& predicted);

}  // namespace electra::finetune
