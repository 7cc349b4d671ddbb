// Waits polled on a thread of their own under the peer deadline (dist/background_waits.h): a
// wait that completes is dropped; one that expires or fails is marked for the main thread to give
// up on; a mark the main thread does not take in time calls `lost` on the thread.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "dist/background_waits.h"

namespace electra::dist {
namespace {

using namespace std::chrono_literals;

struct Lost {
  std::atomic<int> calls{0};
  std::string what, reason;
  std::function<void(const BackgroundWaits::Mark&)> callback() {
    return [this](const BackgroundWaits::Mark& mark) {
      what = mark.what, reason = mark.reason;
      ++calls;
    };
  }
};

// Polls `condition` every 5 ms for up to 5 s.
bool eventually(const std::function<bool()>& condition) {
  for (int i = 0; i < 1000; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return condition();
}

TEST(BackgroundWaits, AWaitThatCompletesIsDroppedAndMarksNothing) {
  Lost lost;
  BackgroundWaits waits([] { return 5.0; }, 1.0, lost.callback());
  std::atomic<bool> done{false};
  waits.add([&] { return BackgroundWaits::Poll{done.load(), ""}; }, "a sum");
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(waits.pending(), 1u);
  done = true;
  EXPECT_TRUE(eventually([&] { return waits.pending() == 0; }));
  EXPECT_FALSE(waits.take_mark());
  EXPECT_EQ(lost.calls, 0);
}

TEST(BackgroundWaits, AWaitPastTheDeadlineIsMarkedForTheMainThreadOnce) {
  Lost lost;
  BackgroundWaits waits([] { return 0.05; }, 5.0, lost.callback());
  waits.add([] { return BackgroundWaits::Poll{}; }, "NCCL all-reduce of gradient bucket 3");
  std::optional<BackgroundWaits::Mark> mark;
  EXPECT_TRUE(eventually([&] { return bool(mark = waits.take_mark()); }));
  ASSERT_TRUE(mark);
  EXPECT_EQ(mark->what, "NCCL all-reduce of gradient bucket 3");
  EXPECT_EQ(mark->reason, "did not complete within 0.05 s");
  EXPECT_FALSE(waits.take_mark());  // once
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(lost.calls, 0);  // taken: the main thread gives up, not the watch's thread
}

TEST(BackgroundWaits, AFailureIsMarkedAtOnceWithItsText) {
  Lost lost;
  BackgroundWaits waits([] { return 60.0; }, 5.0, lost.callback());
  const auto start = std::chrono::steady_clock::now();
  waits.add(
      [] {
        return BackgroundWaits::Poll{false, "failed: unhandled system error"};
      },
      "NCCL all-reduce of step extras");
  std::optional<BackgroundWaits::Mark> mark;
  EXPECT_TRUE(eventually([&] { return bool(mark = waits.take_mark()); }));
  ASSERT_TRUE(mark);
  EXPECT_EQ(mark->reason, "failed: unhandled system error");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(BackgroundWaits, AMarkNobodyTakesCallsLostOnTheThread) {
  // The main thread is blocked (on the device, waiting for that very sum): nobody takes the mark.
  Lost lost;
  BackgroundWaits waits([] { return 0.05; }, 0.1, lost.callback());
  waits.add([] { return BackgroundWaits::Poll{}; }, "NCCL all-reduce of gradient bucket 0");
  EXPECT_TRUE(eventually([&] { return lost.calls.load() > 0; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(lost.calls, 1);
  EXPECT_EQ(lost.what, "NCCL all-reduce of gradient bucket 0");
  EXPECT_EQ(lost.reason, "did not complete within 0.05 s");
  EXPECT_FALSE(waits.take_mark());
}

TEST(BackgroundWaits, AMainThreadGivingUpOnItsOwnDisarmsLost) {
  Lost lost;
  BackgroundWaits waits([] { return 0.02; }, 0.05, lost.callback());
  waits.disarm();
  waits.add([] { return BackgroundWaits::Poll{}; }, "a sum");
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(lost.calls, 0);
}

TEST(BackgroundWaits, ForgottenWaitsAreNotPolledAgain) {
  Lost lost;
  BackgroundWaits waits([] { return 5.0; }, 1.0, lost.callback());
  std::atomic<int> polls{0};
  waits.add(
      [&] {
        ++polls;
        return BackgroundWaits::Poll{};
      },
      "a sum");
  EXPECT_TRUE(eventually([&] { return polls.load() > 0; }));
  waits.forget();
  const int after = polls;
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(polls, after);
  EXPECT_EQ(waits.pending(), 0u);
}

}  // namespace
}  // namespace electra::dist
