#include "app/cli/user_message.h"

#include <c10/util/Exception.h>

#include <filesystem>
#include <new>
#include <nlohmann/json.hpp>

#include "data/debug_detail.h"

namespace electra::cli {

std::string user_message(const std::exception& e) {
  using data::debug_detail;
  if (const auto* fs_error = dynamic_cast<const std::filesystem::filesystem_error*>(&e)) {
    return fs_error->path1().string() + ": " + fs_error->code().message() +
           debug_detail(fs_error->what());
  }
  if (const auto* torch_error = dynamic_cast<const c10::Error*>(&e)) {
    const std::string text = torch_error->what_without_backtrace();
    if (text.find("out of memory") != std::string::npos) {
      return "the device ran out of memory: lower --batch-size (or the sequence length, or use "
             "a smaller model)" +
             debug_detail(text);
    }
    return "LibTorch failed on this input (rerun with ELECTRA_DEBUG=1 for its message)" +
           debug_detail(text);
  }
  if (dynamic_cast<const nlohmann::json::exception*>(&e)) {
    return "a JSON value of an unexpected type or range (rerun with ELECTRA_DEBUG=1 for the "
           "detail)" +
           debug_detail(e.what());
  }
  if (dynamic_cast<const std::bad_alloc*>(&e)) {
    return "out of memory: the model or batch is too large for this machine (lower --batch-size "
           "or use a smaller model)";
  }
  return e.what();
}

}  // namespace electra::cli
