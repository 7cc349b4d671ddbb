// Waits the host does not block on — an NCCL sum that the compute stream waits for on the device
// — polled by a thread of their own under the peer deadline (dist/peer_watch.h). The thread makes
// no MPI call (MPI runs FUNNELED): on expiry or a failure it marks the wait, and the main thread
// takes the mark at its next wait for peers or its next step and gives up as every wait does
// (naming the silent ranks). Where the main thread does not come within `grace` seconds (it is
// blocked on the device, waiting for that very sum), the thread calls `lost` itself.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace electra::dist {

class BackgroundWaits {
 public:
  struct Poll {
    bool done = false;
    std::string failure;  // non-empty: it failed ("failed: NCCL error ...")
  };
  struct Mark {
    std::string what, reason;  // "NCCL all-reduce of gradient bucket 3", "did not complete ..."
  };

  // `deadline`: the seconds a wait may take, read as the thread polls (the peer deadline grows
  // with the longest step). `lost`: called on the thread when a mark was not taken within
  // `grace` seconds (the peer watch prints its line and ends the process there).
  BackgroundWaits(std::function<double()> deadline, double grace,
                  std::function<void(const Mark&)> lost);
  ~BackgroundWaits();
  BackgroundWaits(const BackgroundWaits&) = delete;
  BackgroundWaits& operator=(const BackgroundWaits&) = delete;

  // Watches `poll` (called every few milliseconds on the thread, which starts with the first
  // wait) until it is done; its deadline runs from now. `what` names it.
  void add(std::function<Poll()> poll, std::string what);
  // Drops every wait: before what their polls use goes away. No poll runs after it returns.
  void forget();
  // The main thread: the wait that expired or failed, once (and `lost` is then not called).
  std::optional<Mark> take_mark();
  // The main thread gives up on its own (a wait for peers expired): `lost` is not called from
  // now on, whatever expires meanwhile.
  void disarm();
  size_t pending();

 private:
  struct Wait {
    std::function<Poll()> poll;
    std::string what;
    std::chrono::steady_clock::time_point start;
  };
  void loop();

  std::function<double()> deadline_;
  double grace_;
  std::function<void(const Mark&)> lost_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Wait> waits_;
  bool stop_ = false;
  std::optional<Mark> mark_;  // set by the thread; taken by the main thread
  bool taken_ = false;        // a mark was taken: the main thread gives up
  bool disarmed_ = false;
  std::chrono::steady_clock::time_point marked_at_;
  std::atomic<bool> marked_{false};  // mark_ is set (read without the lock on every poll)
  std::thread thread_;
};

}  // namespace electra::dist
