#include "app/train/stop_signals.h"

#include <csignal>

namespace electra::train {

namespace {

volatile std::sig_atomic_t received = 0;

extern "C" void remember_signal(int signal) {
  received = signal;
}

}  // namespace

void catch_stop_signals() {
  struct sigaction action {};
  action.sa_handler = remember_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // a blocked read or MPI wait goes on; the loop checks the flag
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGUSR1, &action, nullptr);
}

int stop_signal() {
  return received;
}

}  // namespace electra::train
