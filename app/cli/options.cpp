#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

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
      std::ifstream in(path);
      if (!in)
        throw UsageError("--config " + path + ": cannot open the file (check its permissions)");
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
