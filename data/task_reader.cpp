#include "data/task_reader.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "data/input_files.h"

namespace electra::data {

namespace {

// Where a layout keeps its texts and label, by header name (the first name found wins), the
// header names that identify it (any one of the `signatures` complete), and the task's labels
// (empty: any; sts-b's scores are checked as numbers where they are read).
struct Layout {
  std::string name;
  std::vector<std::string> text_a, text_b, label;
  std::vector<std::vector<std::string>> signatures;
  std::vector<std::string> labels;
};

const std::vector<std::string> kBinary = {"0", "1"};
const std::vector<std::string> kEntailment = {"entailment", "not_entailment"};

// In detection order: the more specific first.
const std::vector<Layout>& layouts() {
  static const std::vector<Layout> all = {
      {"mrpc", {"#1 String"}, {"#2 String"}, {"Quality"}, {{"#1 String"}}, kBinary},
      {"qqp", {"question1"}, {"question2"}, {"is_duplicate"}, {{"question1"}}, kBinary},
      {"mnli",
       {"sentence1"},
       {"sentence2"},
       {"gold_label"},
       {{"gold_label"}, {"pairID"}},
       {"contradiction", "entailment", "neutral"}},
      {"sts-b",
       {"sentence1"},
       {"sentence2"},
       {"score"},
       {{"sentence1", "sentence2", "score"}, {"sentence1", "sentence2", "filename"}},
       {}},
      {"qnli", {"question"}, {"sentence"}, {"label"}, {{"question", "sentence"}}, kEntailment},
      {"rte", {"sentence1"}, {"sentence2"}, {"label"}, {{"sentence1", "sentence2"}}, kEntailment},
      // WNLI's header is RTE's; its labels (0, 1) tell it apart (wnli_or_rte).
      {"wnli", {"sentence1"}, {"sentence2"}, {"label"}, {}, kBinary},
      {"sst-2", {"sentence"}, {}, {"label"}, {{"sentence"}}, kBinary},
      {"generic", {"text", "sentence", "text_a"}, {"text_b"}, {"label"}, {{}}, {}},
  };
  return all;
}

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

int column(const std::vector<std::string>& header, const std::vector<std::string>& names) {
  for (const auto& name : names) {
    const auto found = std::find(header.begin(), header.end(), name);
    if (found != header.end()) return int(found - header.begin());
  }
  return -1;
}

// The layout named by `format`, or for "auto" the first whose signature the header has.
const Layout* layout_for(const std::vector<std::string>& header, const std::string& format) {
  for (const auto& layout : layouts()) {
    if (format != "auto") {
      if (layout.name == format) return &layout;
      continue;
    }
    for (const auto& signature : layout.signatures) {
      if (std::all_of(signature.begin(), signature.end(),
                      [&](const std::string& name) { return column(header, {name}) >= 0; })) {
        return &layout;
      }
    }
  }
  return nullptr;
}

// RTE's and WNLI's files share a header: a first label of 0 or 1 is WNLI's.
const Layout* wnli_or_rte(const Layout* layout, const std::vector<std::vector<std::string>>& rows) {
  if (!layout || layout->name != "rte" || rows.size() < 2) return layout;
  const int label = column(rows.front(), layout->label);
  if (label < 0 || size_t(label) >= rows[1].size()) return layout;
  const std::string& first = rows[1][size_t(label)];
  if (std::find(kBinary.begin(), kBinary.end(), first) == kBinary.end()) return layout;
  for (const auto& candidate : layouts()) {
    if (candidate.name == "wnli") return &candidate;
  }
  return layout;
}

// A text holding a line break, which GLUE's files quote as CSV does (a few rows of QQP's
// train.tsv): the row stops inside `"...` and the next line carries on. From row R on, the rows
// are joined while they are short of FIELDS fields; when that gives exactly FIELDS and the joined
// field was quoted, it becomes one field (quotes dropped, "" read as ", the line break a space)
// and true is returned. Anything else stays as it is, for the field count check to report.
bool rejoin_quoted_text(std::vector<std::vector<std::string>>& rows,
                        std::vector<long long>& line_numbers, size_t r, size_t fields) {
  std::vector<std::string> joined = rows[r];
  if (joined.back().empty() || joined.back().front() != '"') return false;
  const size_t quoted = joined.size() - 1;
  size_t next = r + 1;
  for (; joined.size() < fields && next < rows.size(); ++next) {
    joined.back() += "\n" + rows[next].front();
    joined.insert(joined.end(), rows[next].begin() + 1, rows[next].end());
  }
  std::string& text = joined[quoted];
  if (joined.size() != fields || text.size() < 2 || text.back() != '"') return false;
  std::string unquoted;
  for (size_t i = 1; i + 1 < text.size(); ++i) {
    if (text[i] == '"' && text[i + 1] == '"') ++i;  // "" inside a quoted field
    unquoted += text[i] == '\n' ? ' ' : text[i];
  }
  text = unquoted;
  rows[r] = std::move(joined);
  rows.erase(rows.begin() + long(r) + 1, rows.begin() + long(next));
  line_numbers.erase(line_numbers.begin() + long(r) + 1, line_numbers.begin() + long(next));
  return true;
}

std::runtime_error error(const std::string& path, long long line, const std::string& what) {
  return std::runtime_error(path + ":" + std::to_string(line) + ": " + what);
}

}  // namespace

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> fields;
  size_t start = 0;
  for (;;) {
    const size_t tab = line.find('\t', start);
    fields.push_back(
        line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
    if (tab == std::string::npos) return fields;
    start = tab + 1;
  }
}

const std::vector<std::string>& task_formats() {
  static const std::vector<std::string> names = {
      "auto", "generic", "cola", "sst-2", "mrpc", "sts-b", "qqp", "mnli", "qnli", "rte", "wnli"};
  return names;
}

TaskFile read_task_file(const std::string& path, const std::string& format) {
  if (std::find(task_formats().begin(), task_formats().end(), format) == task_formats().end()) {
    throw std::invalid_argument("unknown task format '" + format +
                                "': use auto, generic, cola, sst-2, mrpc, sts-b, qqp, mnli, "
                                "qnli, rte or wnli");
  }
  check_input_file(path, path, "a file (a task file: TSV, one example a line)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot read the task file (check its permissions)");
  std::vector<std::vector<std::string>> rows;
  std::vector<long long> line_numbers;  // each row's line in the file (blank lines skipped)
  std::string line;
  for (long long number = 1; std::getline(in, line); ++number) {
    if (number == 1 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);  // a BOM
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) rows.push_back(split_tabs(line)), line_numbers.push_back(number);
  }
  if (rows.empty()) throw std::runtime_error(path + ": the task file is empty");

  TaskFile file;
  int a = -1, b = -1, label = -1;
  const std::vector<std::string>* known_labels = nullptr;
  size_t first = 1;  // the header row
  // CoLA's train and dev files have no header: source, label, original label, sentence.
  const bool cola_without_header = rows.front().size() == 4 &&
                                   (rows.front()[1] == "0" || rows.front()[1] == "1") &&
                                   (format == "auto" || format == "cola");
  if (cola_without_header) {
    file.format = "cola", a = 3, label = 1, first = 0, known_labels = &kBinary;
  } else if (format == "cola") {  // CoLA's test file: index, sentence
    file.format = "cola", a = column(rows.front(), {"sentence"});
    if (a < 0) {
      throw error(path, line_numbers.front(),
                  "CoLA's layout has 4 columns (source, label 0/1, original label, sentence) "
                  "without a header, or a header naming `sentence` (its test file); this line "
                  "has " +
                      std::to_string(rows.front().size()) +
                      " fields: check --format (auto reads most layouts)");
    }
  } else {
    const Layout* layout = layout_for(rows.front(), format);
    if (format == "auto") layout = wnli_or_rte(layout, rows);
    if (!layout) throw error(path, line_numbers.front(), "the header names no known layout");
    file.format = layout->name;
    if (!layout->labels.empty()) known_labels = &layout->labels;
    a = column(rows.front(), layout->text_a);
    b = layout->text_b.empty() ? -1 : column(rows.front(), layout->text_b);
    label = column(rows.front(), layout->label);
    if (a < 0) {
      throw error(path, line_numbers.front(),
                  "no text column: the header must name `text` (or `sentence`), optionally "
                  "`text_b`, and `label`" +
                      std::string(format == "auto" ? "" : " for format " + format));
    }
  }
  file.pairs = b >= 0, file.labelled = label >= 0;
  const size_t needed = size_t(std::max({a, b, label})) + 1;
  // A row with more fields than the header (or CoLA's 4) has a tab in a text: its fields would
  // land in the wrong columns (a word taken for a label, a new class).
  const size_t most = first == 1 ? rows.front().size() : 4;
  for (size_t r = first; r < rows.size(); ++r) {
    if (first == 1 && rows[r].size() < most) rejoin_quoted_text(rows, line_numbers, r, most);
    const auto& fields = rows[r];
    const long long line_number = line_numbers[r];
    if (fields.size() < needed) {
      throw error(path, line_number,
                  std::to_string(fields.size()) + " tab-separated fields, expected at least " +
                      std::to_string(needed));
    }
    if (fields.size() > most) {
      throw error(path, line_number,
                  std::to_string(fields.size()) + " tab-separated fields, the " +
                      (first == 1 ? "header has " : "layout has ") + std::to_string(most) +
                      " (a tab inside a text? texts cannot hold tabs)");
    }
    TaskExample example{fields[size_t(a)], b >= 0 ? fields[size_t(b)] : "",
                        label >= 0 ? fields[size_t(label)] : ""};
    if (example.text_a.empty() && example.text_b.empty()) {
      throw error(path, line_number, "empty text");
    }
    if (file.labelled && example.label.empty()) throw error(path, line_number, "empty label");
    if (file.labelled && file.format == "sts-b") {  // a similarity score from 0 to 5
      char* end = nullptr;
      const double score = std::strtod(example.label.c_str(), &end);
      if (end != example.label.c_str() + example.label.size() || !std::isfinite(score)) {
        throw error(path, line_number,
                    "score '" + example.label + "' is not a finite number (sts-b: 0 to 5)");
      }
    }
    if (file.labelled && known_labels &&
        std::find(known_labels->begin(), known_labels->end(), example.label) ==
            known_labels->end()) {
      throw error(path, line_number,
                  "label '" + example.label + "' is not one of " + file.format + "'s (" +
                      joined(*known_labels) + "); for other labels pass --format generic");
    }
    file.examples.push_back(std::move(example));
  }
  if (file.examples.empty()) throw std::runtime_error(path + ": no examples after the header");
  return file;
}

}  // namespace electra::data
