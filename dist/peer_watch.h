// The deadline on every wait for other ranks (--peer-timeout), and what a rank does when it
// expires: a host that goes silent (link cut, frozen, dead) must end the job in bounded time,
// with every surviving rank saying which ranks and hosts it waited for, and an exit status that
// a scheduler requeues (kExitPeerLost), without waiting on the peers that do not answer.
//
// The deadline: max(--peer-timeout, kStepFactor x the longest step this start of the run has
// measured, its evaluation and checkpoint included), so that a long step on a big model is not
// taken for a failure. What comes before a step is measured (start-up, the first step, the first
// checkpoint after a start) must fit --peer-timeout.
//
// On expiry a rank sends "gave up" to every rank on a communicator of its own, answers the same
// from the others, and listens kAnswerSeconds: ranks that are alive and waiting answer at once
// (and give up with it, so that the survivors end together); the ranks that do not answer are
// the ones named. Then it prints its line, answers 1 s more (the other survivors print theirs),
// and ends the process (std::_Exit: no destructor may wait on a peer). An MPI error in a wait
// ends the rank the same way. Waits the host does not block on (NCCL sums) are watched by the
// watch's thread under the same deadline (dist/background_waits.h); the main thread gives up on
// them at its next wait or step, or the thread itself when the main thread is blocked.
#pragma once

#include <mpi.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "dist/background_waits.h"
#include "dist/communicator.h"

namespace electra::dist {

// "rank 3 (node2)", "ranks 0-3 (node1), 8 (node3)": ranks (ascending) with their hosts.
std::string describe_ranks(const std::vector<int>& ranks, const std::vector<std::string>& hosts);

class PeerWatch {
 public:
  static constexpr double kDefaultTimeoutSeconds = 300;
  static constexpr double kStepFactor = 4;
  static constexpr double kAnswerSeconds = 5;
  static constexpr double kLingerSeconds = 1;  // answering on after the line, before the exit

  // Collective over `world`, under the deadline: duplicates it (the watch's own messages never
  // meet the job's) and learns every rank's host name.
  explicit PeerWatch(MPI_Comm world);
  ~PeerWatch();

  void set_timeout(double seconds);
  double timeout_seconds() const { return timeout_seconds_; }
  // The step this rank starts now: named in the line; the time since the previous one is a step's
  // time, which scales the deadline.
  void set_step(long long step);
  // What is being waited for, when the call site knows more than the MPI call ("checkpoint
  // agreement"); empty for none.
  void set_operation(std::string name) { operation_ = std::move(name); }
  const std::string& operation() const { return operation_; }
  // The deadline now (seconds).
  double deadline_seconds() const;
  const std::vector<std::string>& hosts() const { return hosts_; }

  // Polls until every request completes. Gives up (never returns) when the deadline passes or
  // another rank gave up meanwhile. `what` names the MPI call ("MPI_Iallreduce").
  void wait(MPI_Request* requests, int count, const std::string& what);

  // The same for a wait of another kind (NCCL): polls `done` (which may itself give up, on an
  // error) under the deadline, and gives up as wait() does.
  void wait_until(const std::function<bool()>& done, const std::string& what);

  // Tells the others, names the ranks that do not answer, prints one line and ends the process
  // with kExitPeerLost. `reason` ("did not complete within 20 s") follows the operation's name.
  [[noreturn]] void give_up(const std::string& what, const std::string& reason);

  // Waits polled on the watch's thread (NCCL sums), under the same deadline.
  BackgroundWaits& background() { return background_; }
  // Gives up (never returns) when a background wait expired or failed; else returns.
  void give_up_if_marked();

 private:
  // When the main thread does not take a background wait's mark (it is blocked on the device):
  // this rank's line, without asking the other ranks (no MPI off the main thread), and the exit.
  [[noreturn]] void give_up_without_peers(const BackgroundWaits::Mark& mark);
  bool peer_gave_up();  // a "gave up" from another rank has arrived
  void answer_pending(std::vector<bool>* answered);
  std::string operation_text(const std::string& what) const;

  MPI_Comm comm_ = MPI_COMM_NULL;
  bool ready_ = false;  // comm_ usable (its non-blocking duplication has completed)
  int rank_ = 0, size_ = 1;
  std::vector<std::string> hosts_;
  double timeout_seconds_ = kDefaultTimeoutSeconds;
  double longest_step_seconds_ = 0;
  long long step_ = -1;
  std::chrono::steady_clock::time_point step_start_;
  std::string operation_;
  int first_to_give_up_ = -1;  // a rank whose "gave up" arrived before this rank's own deadline
  long long message_ = 0;      // payload of the watch's messages (their content is the tag)
  std::atomic<double> published_deadline_{kDefaultTimeoutSeconds};  // for the watch's thread
  std::atomic<long long> published_step_{-1};
  BackgroundWaits background_;  // last: its thread stops before the members it reads go
};

}  // namespace electra::dist
