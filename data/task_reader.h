// Labelled text for fine-tuning, read from TSV files: the layouts of the GLUE tasks (CoLA, SST-2,
// MRPC, STS-B, QQP, MNLI, QNLI, RTE, WNLI: their train, dev and test files as GLUE distributes
// them) and a generic TSV whose header row names the columns `text` (or `sentence`), optionally
// `text_b`, and `label`. Columns are found by header name, so test files without a label column
// read as unlabelled. Fields are split on tabs only: quotes are text (GLUE's files have stray
// ones), except a quoted text that holds a line break (a few QQP rows), which is joined back into
// one.
#pragma once

#include <string>
#include <vector>

namespace electra::data {

struct TaskExample {
  std::string text_a, text_b;  // text_b empty for single sentences
  std::string label;           // empty when the file has no labels
};

struct TaskFile {
  std::string format;  // "generic", "cola", "sst-2", ...
  bool pairs = false;  // the layout has a second text
  bool labelled = false;
  std::vector<TaskExample> examples;
};

// The fields of a line split on every tab (an empty line: one empty field).
std::vector<std::string> split_tabs(const std::string& line);

// The task formats understood, for --help and errors.
const std::vector<std::string>& task_formats();

// Reads PATH in `format` ("auto": a GLUE layout recognised from the header or, for CoLA's
// header-less files, the column count; else generic). Throws naming the file, the line and the
// problem (missing column, wrong number of fields, empty text).
TaskFile read_task_file(const std::string& path, const std::string& format = "auto");

}  // namespace electra::data
