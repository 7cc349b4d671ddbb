#include "app/finetune/tagged_text.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "data/input_files.h"
#include "data/task_reader.h"

namespace electra::finetune {
namespace {

std::vector<std::string> split_whitespace(const std::string& line) {
  std::vector<std::string> fields;
  std::istringstream in(line);
  for (std::string field; in >> field;) fields.push_back(field);
  return fields;
}

bool blank(const std::string& line) {
  return line.find_first_not_of(" \t\r") == std::string::npos;
}

bool all_digits(const std::string& text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
}

// A CoNLL-U ID: a word ("7"), a multi-word token range ("7-8") or an empty node ("7.1").
enum class UdId { kWord, kRange, kEmptyNode, kInvalid };
UdId ud_id(const std::string& id) {
  if (all_digits(id)) return UdId::kWord;
  for (const auto [separator, kind] : {std::pair{'-', UdId::kRange}, {'.', UdId::kEmptyNode}}) {
    const size_t at = id.find(separator);
    if (at != std::string::npos && all_digits(id.substr(0, at)) && all_digits(id.substr(at + 1)))
      return kind;
  }
  return UdId::kInvalid;
}

class Reader {
 public:
  Reader(TagFile& file) : file_(file) {}

  [[noreturn]] void fail(long line, const std::string& what) const {
    throw std::runtime_error(file_.path + ":" + std::to_string(line) + ": " + what);
  }

  void add_line(long number, const std::string& line) {
    if (blank(line)) return finish();
    number_ = number;
    if (file_.format == TagFormat::kConll) {
      conll_line(number, line);
    } else {
      conllu_line(number, line);
    }
  }

  void finish() {
    if (!current_.words.empty()) {
      file_.sentences.push_back(std::move(current_));
    } else if (!current_.lines.empty() && file_.format == TagFormat::kConllu) {
      fail(current_.first_line, "a sentence of comments without any word line");
    }
    current_ = TagSentence();
    columns_ = 0;
  }

 private:
  void conll_line(long number, const std::string& line) {
    const std::vector<std::string> fields = split_whitespace(line);
    if (fields.front() == "-DOCSTART-") {
      ++file_.docstart_lines;
      return;
    }
    if (columns_ == 0) columns_ = fields.size();
    if (fields.size() != columns_) {
      fail(number, std::to_string(fields.size()) + " columns, but the sentence's first line has " +
                       std::to_string(columns_));
    }
    const size_t column = file_.tag_column == 0 ? fields.size() : size_t(file_.tag_column);
    if (fields.size() < 2 || column > fields.size() || column < 2) {
      fail(number, fields.size() < 2
                       ? "a word line needs the word and at least one tag column"
                       : "--tag-column " + std::to_string(column) +
                             " is not a tag column of a line of " + std::to_string(fields.size()) +
                             " columns (2.." + std::to_string(fields.size()) + ")");
    }
    file_.tag_column = int(column);
    add_word(fields.front(), fields[column - 1], line);
  }

  void conllu_line(long number, const std::string& line) {
    if (line[0] == '#') {
      if (current_.lines.empty()) current_.first_line = number;
      current_.lines.push_back(line);
      return;
    }
    std::string text = line;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    const std::vector<std::string> fields = data::split_tabs(text);
    if (fields.size() != 10) {
      fail(number, "a CoNLL-U word line has 10 tab-separated fields, this one " +
                       std::to_string(fields.size()));
    }
    switch (ud_id(fields[0])) {
      case UdId::kRange:
      case UdId::kEmptyNode:
        if (current_.lines.empty()) current_.first_line = number;
        current_.lines.push_back(text);  // kept for writing back, not tagged
        return;
      case UdId::kInvalid:
        fail(number, "ID '" + fields[0] + "' is not a word number, a range or an empty node");
      case UdId::kWord:
        break;
    }
    if (fields[0] != std::to_string(current_.words.size() + 1)) {
      fail(number, "word ID " + fields[0] + " where " + std::to_string(current_.words.size() + 1) +
                       " was due (a blank line must end each sentence)");
    }
    const int column = file_.tag_column;
    if (column < 2 || column > 10) {
      fail(number, "--tag-column " + std::to_string(column) +
                       " is not a column of CoNLL-U's 10 (UPOS is 4, XPOS 5)");
    }
    add_word(fields[1], fields[size_t(column) - 1], text);
  }

  void add_word(const std::string& word, const std::string& tag, const std::string& line) {
    if (current_.lines.empty()) current_.first_line = number_;
    current_.word_lines.push_back(current_.lines.size());
    current_.lines.push_back(line);
    current_.words.push_back(word);
    current_.tags.push_back(tag);
  }

  TagFile& file_;
  TagSentence current_;
  size_t columns_ = 0;
  long number_ = 0;  // the line being read
};

bool looks_like_conllu(const std::string& path, std::istream& in) {
  if (path.size() > 7 && path.compare(path.size() - 7, 7, ".conllu") == 0) return true;
  for (std::string line; std::getline(in, line);) {
    if (blank(line) || line[0] == '#') continue;
    const std::vector<std::string> fields = data::split_tabs(line);
    return fields.size() == 10 && ud_id(fields[0]) != UdId::kInvalid;
  }
  return false;
}

}  // namespace

TagFile read_tag_file(const std::string& path, const std::string& format, int tag_column) {
  if (format != "auto" && format != "conll" && format != "conllu") {
    throw std::invalid_argument("--tag-format must be auto, conll or conllu (not '" + format +
                                "')");
  }
  data::check_input_file(path, path, "a file (a CoNLL file: one token a line)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open the file (check its permissions)");
  TagFile file;
  file.path = path;
  const bool conllu = format == "conllu" || (format == "auto" && looks_like_conllu(path, in));
  file.format = conllu ? TagFormat::kConllu : TagFormat::kConll;
  file.tag_column = tag_column != 0 ? tag_column : conllu ? 4 : 0;
  in.clear();
  in.seekg(0);
  Reader reader(file);
  long number = 0;
  for (std::string line; std::getline(in, line);) reader.add_line(++number, line);
  reader.finish();
  if (file.sentences.empty()) {
    throw std::runtime_error(path + ": no tagged sentence in the file (a " +
                             std::string(conllu ? "CoNLL-U" : "CoNLL column") + " file?)");
  }
  return file;
}

std::string with_predictions(const TagFile& file,
                             const std::vector<std::vector<std::string>>& predicted) {
  if (predicted.size() != file.sentences.size()) {
    throw std::invalid_argument("predictions for " + std::to_string(predicted.size()) +
                                " sentences, the file has " +
                                std::to_string(file.sentences.size()));
  }
  std::string out;
  for (size_t s = 0; s < file.sentences.size(); ++s) {
    const TagSentence& sentence = file.sentences[s];
    if (predicted[s].size() != sentence.words.size()) {
      throw std::invalid_argument("sentence " + std::to_string(s + 1) + ": " +
                                  std::to_string(predicted[s].size()) + " predicted tags for " +
                                  std::to_string(sentence.words.size()) + " words");
    }
    std::vector<std::string> lines = sentence.lines;
    for (size_t w = 0; w < sentence.words.size(); ++w) {
      std::string& line = lines[sentence.word_lines[w]];
      if (file.format == TagFormat::kConll) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        line += " " + predicted[s][w];
      } else {
        std::vector<std::string> fields = data::split_tabs(line);
        fields[size_t(file.tag_column) - 1] = predicted[s][w];
        line.clear();
        for (size_t f = 0; f < fields.size(); ++f) line += (f ? "\t" : "") + fields[f];
      }
    }
    for (const auto& line : lines) out += line + "\n";
    out += "\n";
  }
  return out;
}

}  // namespace electra::finetune
