// The one line a user reads for an error that reached a command's top.
#pragma once

#include <exception>
#include <string>

namespace electra::cli {

// An error as the user reads it: ours as they are; a library's that no command translated (a
// gap: each should say which file or option) without its text or trace, which ELECTRA_DEBUG=1
// adds.
std::string user_message(const std::exception& e);

}  // namespace electra::cli
