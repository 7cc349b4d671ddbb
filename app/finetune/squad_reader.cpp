#include "app/finetune/squad_reader.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <unordered_set>

#include "data/input_files.h"
#include "data/utf8.h"

namespace electra::finetune {
namespace {

using nlohmann::json;

// Byte offset of code point `index` of `text`, or -1 past its end.
long byte_offset(const std::string& text, long index) {
  const char *p = text.data(), *end = p + text.size();
  uint64_t invalid = 0;
  for (long i = 0; i < index; ++i) {
    if (p >= end) return -1;
    data::decode_utf8(p, end, invalid);
  }
  return long(p - text.data());
}

long code_points(const std::string& text) {
  long count = 0;
  for (unsigned char byte : text) count += (byte & 0xC0) != 0x80;
  return count;
}

class Reader {
 public:
  explicit Reader(SquadFile& file) : file_(file) {}

  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw std::runtime_error(file_.path + ": " + where + ": " + what);
  }

  const json& field(const json& object, const char* name, json::value_t type,
                    const std::string& where) const {
    if (!object.is_object()) fail(where, "expected a JSON object");
    const auto found = object.find(name);
    if (found == object.end()) fail(where, std::string("no '") + name + "' field");
    const bool ok = found->type() == type || (type == json::value_t::number_integer &&
                                              found->type() == json::value_t::number_unsigned);
    if (!ok)
      fail(where, std::string("'") + name + "' has the wrong type (" + found->type_name() + ")");
    return *found;
  }

  std::vector<SquadAnswer> answers(const json& list, const std::string& context,
                                   const std::string& where, bool& any_unaligned) const {
    std::vector<SquadAnswer> out;
    for (const json& item : list) {
      SquadAnswer answer;
      answer.text = field(item, "text", json::value_t::string, where).get<std::string>();
      const long start =
          field(item, "answer_start", json::value_t::number_integer, where).get<long>();
      const long bytes = start < 0 ? -1 : byte_offset(context, start);
      if (bytes < 0) {
        fail(where, "answer_start " + std::to_string(start) + " is outside its context of " +
                        std::to_string(code_points(context)) + " characters");
      }
      answer.start = bytes;
      answer.aligned = context.compare(size_t(bytes), answer.text.size(), answer.text) == 0;
      any_unaligned |= !answer.aligned;
      out.push_back(std::move(answer));
    }
    return out;
  }

  void read(const json& root) {
    if (!root.is_object()) fail("top level", "expected a JSON object with 'data'");
    const json& data = field(root, "data", json::value_t::array, "top level");
    bool v2 = false;
    if (const auto version = root.find("version"); version != root.end() && version->is_string()) {
      v2 = version->get<std::string>().find('2') != std::string::npos;
    }
    std::unordered_set<std::string> ids;
    for (size_t a = 0; a < data.size(); ++a) {
      const json& article = data[a];
      std::string title;
      if (article.is_object()) {
        if (const auto found = article.find("title"); found != article.end() && found->is_string())
          title = found->get<std::string>();
      }
      const std::string where =
          "article " + std::to_string(a + 1) + (title.empty() ? "" : " ('" + title + "')");
      const json& paragraphs = field(article, "paragraphs", json::value_t::array, where);
      ++file_.articles;
      for (size_t p = 0; p < paragraphs.size(); ++p) {
        const std::string paragraph_where = where + ", paragraph " + std::to_string(p + 1);
        const json& paragraph = paragraphs[p];
        const std::string context =
            field(paragraph, "context", json::value_t::string, paragraph_where).get<std::string>();
        for (const json& qa : field(paragraph, "qas", json::value_t::array, paragraph_where)) {
          SquadExample example;
          example.id = field(qa, "id", json::value_t::string, paragraph_where).get<std::string>();
          const std::string question_where = "question " + example.id + " (" + where + ")";
          if (!ids.insert(example.id).second) fail(question_where, "the id is used twice");
          example.title = title;
          example.context = context;
          example.question =
              field(qa, "question", json::value_t::string, question_where).get<std::string>();
          if (const auto impossible = qa.find("is_impossible"); impossible != qa.end()) {
            if (!impossible->is_boolean())
              fail(question_where, "'is_impossible' is not true or false");
            example.impossible = impossible->get<bool>();
            v2 = true;
          }
          bool unaligned = false;
          example.answers = answers(field(qa, "answers", json::value_t::array, question_where),
                                    context, question_where, unaligned);
          if (example.impossible && !example.answers.empty()) {
            fail(question_where, "is_impossible is true but it has answers");
          }
          if (const auto plausible = qa.find("plausible_answers"); plausible != qa.end()) {
            if (!plausible->is_array()) fail(question_where, "'plausible_answers' is not a list");
            bool ignored = false;
            example.plausible_answers = answers(*plausible, context, question_where, ignored);
          }
          if (unaligned) {
            for (const auto& answer : example.answers) file_.unaligned_answers += !answer.aligned;
            if (file_.unaligned_ids.size() < 5) file_.unaligned_ids.push_back(example.id);
          }
          file_.examples.push_back(std::move(example));
        }
      }
    }
    file_.version = v2 ? SquadVersion::kV2 : SquadVersion::kV1;
    if (file_.examples.empty()) fail("top level", "no question in the file");
  }

 private:
  SquadFile& file_;
};

}  // namespace

SquadFile read_squad_file(const std::string& path) {
  data::check_input_file(path, path, "a file (a SQuAD JSON file)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open the file (check its permissions)");
  std::ostringstream text;
  text << in.rdbuf();
  SquadFile file;
  file.path = path;
  json root;
  try {
    root = json::parse(text.str());
  } catch (const json::parse_error& e) {
    throw std::runtime_error(path + ": not valid JSON (near byte " + std::to_string(e.byte) +
                             "); is it a SQuAD file?");
  }
  Reader(file).read(root);
  return file;
}

std::vector<SquadQuestion> squad_questions(const SquadFile& file) {
  std::vector<SquadQuestion> questions;
  for (const auto& example : file.examples) {
    SquadQuestion question{example.id, {}};
    for (const auto& answer : example.answers) question.answers.push_back(answer.text);
    questions.push_back(std::move(question));
  }
  return questions;
}

}  // namespace electra::finetune
