#include "dist/background_waits.h"

#include "dist/seconds_text.h"

namespace electra::dist {

BackgroundWaits::BackgroundWaits(std::function<double()> deadline, double grace,
                                 std::function<void(const Mark&)> lost)
    : deadline_(std::move(deadline)), grace_(grace), lost_(std::move(lost)) {}

BackgroundWaits::~BackgroundWaits() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BackgroundWaits::add(std::function<Poll()> poll, std::string what) {
  // Called from backward's hooks: no wake-up (the thread's 2 ms tick finds the wait), so backward
  // never stalls on a polling pass.
  std::lock_guard<std::mutex> lock(mutex_);
  waits_.push_back({std::move(poll), std::move(what), std::chrono::steady_clock::now()});
  if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
}

void BackgroundWaits::forget() {
  std::lock_guard<std::mutex> lock(mutex_);  // the thread polls holding it
  waits_.clear();
}

size_t BackgroundWaits::pending() {
  std::lock_guard<std::mutex> lock(mutex_);
  return waits_.size();
}

std::optional<BackgroundWaits::Mark> BackgroundWaits::take_mark() {
  if (!marked_) return std::nullopt;
  std::lock_guard<std::mutex> lock(mutex_);
  if (taken_ || !mark_) return std::nullopt;
  taken_ = true;
  return mark_;
}

void BackgroundWaits::disarm() {
  std::lock_guard<std::mutex> lock(mutex_);
  disarmed_ = true;
}

void BackgroundWaits::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    if (waits_.empty() && !mark_) {  // nothing to poll: sleep until a wait or the end
      wake_.wait_for(lock, std::chrono::milliseconds(100));
    } else {
      wake_.wait_for(lock, std::chrono::milliseconds(2));
    }
    if (stop_) break;
    if (mark_) {  // one mark: the main thread gives up on it, or `lost` is called once
      if (!taken_ && !disarmed_ && seconds_since(marked_at_) > grace_) {
        taken_ = true;
        const Mark mark = *mark_;
        lock.unlock();
        lost_(mark);
        lock.lock();
      }
      continue;
    }
    const double deadline = deadline_();
    for (size_t i = 0; i < waits_.size();) {
      const Poll state = waits_[i].poll();
      std::string reason = state.failure;
      if (reason.empty() && !state.done && seconds_since(waits_[i].start) > deadline) {
        reason = "did not complete within " + seconds_text(deadline);
      }
      if (!reason.empty()) {
        mark_ = Mark{waits_[i].what, reason};
        marked_at_ = std::chrono::steady_clock::now();
        marked_ = true;
        break;
      }
      if (state.done) {
        waits_.erase(waits_.begin() + std::ptrdiff_t(i));
      } else {
        ++i;
      }
    }
  }
}

}  // namespace electra::dist
