#include "app/train/stop_signals.h"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>

namespace electra::train {

namespace {

// Set by the handler (on whichever thread the kernel picks), read by the training loop.
std::atomic<int> received{0};
static_assert(std::atomic<int>::is_always_lock_free, "the signal flag must be lock-free");

void say(const char* text) {
  // write(2) is async-signal-safe; what it returns cannot be acted on here.
  [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, text, std::strlen(text));
}

extern "C" void remember_signal(int signal) {
  if (signal == SIGINT) {
    if (received.load() != 0) {  // Ctrl-C after a stop was asked for: the user wants out now
      say("\nelectra: second interrupt: exiting at once (nothing more is saved)\n");
      ::_exit(128 + SIGINT);
    }
    say("\nelectra: interrupt: stopping at the next step boundary (press Ctrl-C again to exit "
        "at once)\n");
  }
  received.store(signal);
}

}  // namespace

void catch_stop_signals() {
  struct sigaction action {};
  action.sa_handler = remember_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // a blocked read or MPI wait goes on; the loop checks the flag
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGUSR1, &action, nullptr);
  // A job started in the background of a script ignores Ctrl-C (the shell set SIGINT to
  // SIG_IGN): it keeps doing so.
  struct sigaction before {};
  sigaction(SIGINT, nullptr, &before);
  if (before.sa_handler != SIG_IGN) sigaction(SIGINT, &action, nullptr);
}

int stop_signal() {
  return received.load();
}

const char* stop_signal_name(int signal) {
  switch (signal) {
    case SIGUSR1:
      return "SIGUSR1";
    case SIGINT:
      return "SIGINT";
    default:
      return "SIGTERM";
  }
}

}  // namespace electra::train
