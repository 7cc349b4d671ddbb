#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "app/cli/command.h"
#include "data/input_files.h"

namespace electra::cli {

std::string number_text(double value) {
  char text[32];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, value);
    if (std::strtod(text, nullptr) == value) break;
  }
  return text;
}

namespace {

std::string trimmed(const std::string& text) {
  const size_t first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

// The INI file PATH's text without a UTF-8 BOM; an option given twice (not one that takes a
// list, such as `set`) is refused naming both lines, where Boost would keep the last silently.
std::string checked_ini(const std::string& path, const po::options_description& declared) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("--config " + path + ": cannot open the file (check its permissions)");
  std::stringstream read;
  read << in.rdbuf();
  std::string text = read.str();
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);
  std::istringstream lines(text);
  std::map<std::string, int> first_line;
  std::string line, section;
  for (int number = 1; std::getline(lines, line); ++number) {
    line = trimmed(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line[0] == '[') {
      section = trimmed(line.substr(1, line.find(']') - 1)) + ".";
      continue;
    }
    const size_t equals = line.find('=');
    if (equals == std::string::npos) continue;  // Boost names the line
    const std::string name = section + trimmed(line.substr(0, equals));
    const auto* option = declared.find_nothrow(name, false);
    if (option && (option->semantic()->is_composing() || option->semantic()->max_tokens() > 1)) {
      continue;  // a list: repeats add to it
    }
    const auto [seen, fresh] = first_line.emplace(name, number);
    if (!fresh) {
      throw UsageError("--config " + path + ":" + std::to_string(number) + ": '" + name +
                       "' is given twice (lines " + std::to_string(seen->second) + " and " +
                       std::to_string(number) + "); keep one");
    }
  }
  return text;
}

}  // namespace

bool parse_options(const Command& command, int argc, char** argv, po::variables_map& options) {
  po::options_description declared(std::string("Options of `electra ") + command.name + "`", 100,
                                   44);
  declared.add_options()("help,h", "show this help and exit")(
      "config", po::value<std::string>(),
      "read options from an INI file (`name = value` lines, the names as below without "
      "dashes); the command line wins");
  command.declare_options(declared);
  try {
    po::store(
        po::command_line_parser(argc, argv).options(declared).positional(command.positional).run(),
        options);
    if (options.count("help")) {
      std::cout << "electra " << command.name << " " << command.usage << "\n\n"
                << command.summary << "\n\n"
                << declared << "\n";
      return false;
    }
    if (options.count("config")) {
      const std::string path = options["config"].as<std::string>();
      try {
        data::check_input_file(path, "--config " + path, "an INI file");
      } catch (const std::runtime_error& e) {
        throw UsageError(e.what());
      }
      std::istringstream in(checked_ini(path, declared));
      try {
        po::store(po::parse_config_file(in, declared, /*allow_unregistered=*/false), options);
      } catch (const po::error& e) {
        throw UsageError("--config " + path + ": " + e.what());
      }
    }
    po::notify(options);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  return true;
}

}  // namespace electra::cli
