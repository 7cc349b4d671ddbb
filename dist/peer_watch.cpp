#include "dist/peer_watch.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <thread>

#include <unistd.h>

#include "dist/mpi_check.h"
#include "dist/seconds_text.h"

namespace electra::dist {

namespace {

constexpr int kGaveUpTag = 7601;  // "I gave up waiting": also an answer
constexpr int kAnswerTag = 7602;  // "I am here" to a rank that gave up

}  // namespace

std::string describe_ranks(const std::vector<int>& ranks, const std::vector<std::string>& hosts) {
  const auto host = [&](int rank) {
    return rank >= 0 && size_t(rank) < hosts.size() ? hosts[size_t(rank)] : std::string("?");
  };
  std::string text = ranks.size() == 1 ? "rank " : "ranks ";
  for (size_t i = 0; i < ranks.size();) {
    size_t j = i;  // ranks[i..j] consecutive on one host
    while (j + 1 < ranks.size() && ranks[j + 1] == ranks[j] + 1 &&
           host(ranks[j + 1]) == host(ranks[i])) {
      ++j;
    }
    if (i > 0) text += ", ";
    text += std::to_string(ranks[i]);
    if (j > i) text += "-" + std::to_string(ranks[j]);
    text += " (" + host(ranks[i]) + ")";
    i = j + 1;
  }
  return text;
}

// How long the main thread may take to give up on a background wait's mark itself: it looks
// every few milliseconds while it waits for peers, and at every step.
constexpr double kMainThreadGraceSeconds = 3;

PeerWatch::PeerWatch(MPI_Comm world)
    : background_([this] { return published_deadline_.load(); }, kMainThreadGraceSeconds,
                  [this](const BackgroundWaits::Mark& mark) { give_up_without_peers(mark); }) {
  ELECTRA_MPI_CHECK(MPI_Comm_rank(world, &rank_));
  ELECTRA_MPI_CHECK(MPI_Comm_size(world, &size_));
  hosts_.assign(size_t(size_), "?");
  MPI_Request request;
  ELECTRA_MPI_CHECK(MPI_Comm_idup(world, &comm_, &request));  // under the deadline too
  wait(&request, 1, "MPI_Comm_idup of the watch's communicator");
  ready_ = true;
  ELECTRA_MPI_CHECK(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN));
  char name[MPI_MAX_PROCESSOR_NAME] = {0};
  int length = 0;
  ELECTRA_MPI_CHECK(MPI_Get_processor_name(name, &length));
  std::vector<char> all(size_t(size_) * MPI_MAX_PROCESSOR_NAME, '\0');
  ELECTRA_MPI_CHECK(MPI_Iallgather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all.data(),
                                   MPI_MAX_PROCESSOR_NAME, MPI_CHAR, comm_, &request));
  wait(&request, 1, "MPI_Iallgather of the host names");
  for (int r = 0; r < size_; ++r) {
    const char* host = all.data() + size_t(r) * MPI_MAX_PROCESSOR_NAME;
    hosts_[size_t(r)] = std::string(host, strnlen(host, MPI_MAX_PROCESSOR_NAME));
  }
}

PeerWatch::~PeerWatch() {
  if (ready_) MPI_Comm_free(&comm_);
}

void PeerWatch::set_timeout(double seconds) {
  timeout_seconds_ = seconds;
  published_deadline_ = deadline_seconds();
}

double PeerWatch::deadline_seconds() const {
  return std::max(timeout_seconds_, kStepFactor * longest_step_seconds_);
}

void PeerWatch::set_step(long long step) {
  const auto now = std::chrono::steady_clock::now();
  if (step_ >= 0) {
    longest_step_seconds_ =
        std::max(longest_step_seconds_, std::chrono::duration<double>(now - step_start_).count());
  }
  step_ = step;
  step_start_ = now;
  published_deadline_ = deadline_seconds();
  published_step_ = step;
  give_up_if_marked();
}

void PeerWatch::give_up_if_marked() {
  if (const auto mark = background_.take_mark()) {
    operation_.clear();  // the wait that failed is the marked one, not the one running now
    give_up(mark->what, mark->reason);
  }
}

void PeerWatch::wait(MPI_Request* requests, int count, const std::string& what) {
  wait_until(
      [&] {
        int done = 0;
        const int code = MPI_Testall(count, requests, &done, MPI_STATUSES_IGNORE);
        if (code != MPI_SUCCESS) {  // the request stays active: this rank cannot go on
          char message[MPI_MAX_ERROR_STRING] = {0};
          int length = 0;
          MPI_Error_string(code, message, &length);
          give_up(what, std::string("failed: ") + message);
        }
        return done != 0;
      },
      what);
}

void PeerWatch::wait_until(const std::function<bool()>& done, const std::string& what) {
  const double deadline = deadline_seconds();
  const auto start = std::chrono::steady_clock::now();
  for (long long polls = 0;; ++polls) {
    if (done()) return;
    if (polls < 1000) continue;                                  // a quick one: spin
    std::this_thread::sleep_for(std::chrono::microseconds(50));  // let the other ranks run
    if (polls % 64 == 0) give_up_if_marked();
    if (polls % 64 == 0 && peer_gave_up()) {
      give_up(what, "was given up after " + seconds_text(seconds_since(start)) + " by " +
                        describe_ranks({first_to_give_up_}, hosts_));
    }
    if (seconds_since(start) > deadline) {
      give_up(what, "did not complete within " + seconds_text(deadline));
    }
  }
}

bool PeerWatch::peer_gave_up() {
  if (!ready_) return false;
  int flag = 0;
  MPI_Status status;
  if (MPI_Iprobe(MPI_ANY_SOURCE, kGaveUpTag, comm_, &flag, &status) != MPI_SUCCESS || !flag) {
    return false;
  }
  first_to_give_up_ = status.MPI_SOURCE;
  return true;
}

// Receives what has arrived on the watch's communicator: every sender is marked as alive, and a
// rank that gave up gets an answer.
void PeerWatch::answer_pending(std::vector<bool>* answered) {
  while (ready_) {
    int flag = 0;
    MPI_Status status;
    if (MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm_, &flag, &status) != MPI_SUCCESS || !flag) {
      return;
    }
    long long payload = 0;
    if (MPI_Recv(&payload, 1, MPI_LONG_LONG, status.MPI_SOURCE, status.MPI_TAG, comm_,
                 MPI_STATUS_IGNORE) != MPI_SUCCESS) {
      return;
    }
    (*answered)[size_t(status.MPI_SOURCE)] = true;
    if (status.MPI_TAG == kGaveUpTag) {
      MPI_Request request;  // never waited for: the message is sent or the peer is gone
      if (MPI_Isend(&message_, 1, MPI_LONG_LONG, status.MPI_SOURCE, kAnswerTag, comm_, &request) ==
          MPI_SUCCESS) {
        MPI_Request_free(&request);
      }
    }
  }
}

std::string PeerWatch::operation_text(const std::string& what) const {
  return operation_.empty() ? what : operation_ + " (" + what + ")";
}

void PeerWatch::give_up(const std::string& what, const std::string& reason) {
  background_.disarm();  // this thread prints the line
  std::fflush(stdout);
  std::cout.flush();
  message_ = step_;
  // Every MPI call from here on is unchecked: a peer may be gone, and this rank ends regardless.
  for (int r = 0; r < size_ && ready_; ++r) {
    if (r == rank_) continue;
    MPI_Request request;
    if (MPI_Isend(&message_, 1, MPI_LONG_LONG, r, kGaveUpTag, comm_, &request) == MPI_SUCCESS) {
      MPI_Request_free(&request);
    }
  }
  std::vector<bool> answered(size_t(size_), false);
  answered[size_t(rank_)] = true;
  if (first_to_give_up_ >= 0) answered[size_t(first_to_give_up_)] = true;
  const auto start = std::chrono::steady_clock::now();
  while (ready_ && seconds_since(start) < kAnswerSeconds &&
         std::find(answered.begin(), answered.end(), false) != answered.end()) {
    answer_pending(&answered);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  answer_pending(&answered);  // late ones still get their answer
  std::vector<int> silent;
  for (int r = 0; r < size_; ++r) {
    if (!answered[size_t(r)]) silent.push_back(r);
  }
  std::ostringstream line;
  line << "electra: " << describe_ranks({rank_}, hosts_) << ": ";
  if (step_ >= 0) line << "step " << step_ << ": ";
  line << operation_text(what) << " " << reason << " (--peer-timeout "
       << seconds_text(timeout_seconds_) << ", longest step so far "
       << seconds_text(longest_step_seconds_) << "); ";
  if (silent.empty()) {
    line << "every rank answered, so they wait in different operations (a bug: please report it)";
  } else {
    line << "no answer within " << seconds_text(kAnswerSeconds) << " from "
         << describe_ranks(silent, hosts_);
  }
  line << "; exit status " << kExitPeerLost
       << ": run the same command again to resume from the last complete checkpoint\n";
  const std::string text = line.str();  // one write: the lines of ranks do not interleave
  if (::write(STDERR_FILENO, text.data(), text.size()) < 0) std::perror("electra");
  // Still answering a moment: the other survivors print their lines before this rank's exit
  // makes the launcher end the job.
  const auto printed = std::chrono::steady_clock::now();
  while (seconds_since(printed) < kLingerSeconds) {
    answer_pending(&answered);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::_Exit(kExitPeerLost);
}

void PeerWatch::give_up_without_peers(const BackgroundWaits::Mark& mark) {
  std::ostringstream line;
  line << "electra: " << describe_ranks({rank_}, hosts_) << ": ";
  if (published_step_ >= 0) line << "step " << published_step_ << ": ";
  line << mark.what << " " << mark.reason
       << " (--peer-timeout); this rank is blocked in a call to its GPU or to NCCL, so the other "
          "ranks were not asked; exit status "
       << kExitPeerLost
       << ": run the same command again to resume from the last complete checkpoint\n";
  const std::string text = line.str();
  if (::write(STDERR_FILENO, text.data(), text.size()) < 0) std::perror("electra");
  std::_Exit(kExitPeerLost);
}

}  // namespace electra::dist
