#include <gtest/gtest.h>

#include <filesystem>

#include "app/train/metrics_log.h"
#include "app/train/tensorboard_events.h"
#include "test_util.h"

namespace electra::train {
namespace {

namespace fs = std::filesystem;

TEST(TensorBoard, Crc32cOfTheStandardCheckString) {
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
  EXPECT_EQ(crc32c("", 0), 0u);
}

TEST(TensorBoard, EventsReadBackWithTheirStepsAndScalars) {
  testing::TempDir dir;
  std::string path;
  {
    TensorBoardWriter writer(dir / "tb");
    writer.add_scalars(10, {{"train/loss", 2.5}, {"train/lr", 1e-4}});
    writer.add_scalars(20, {{"eval/disc_auc", 0.75}});
    path = writer.path();
  }
  EXPECT_NE(fs::path(path).filename().string().find("events.out.tfevents."), std::string::npos);
  const auto events = read_tensorboard_events(path);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].step, 10);
  EXPECT_FLOAT_EQ(events[0].scalars.at("train/loss"), 2.5f);
  EXPECT_FLOAT_EQ(events[0].scalars.at("train/lr"), 1e-4f);
  EXPECT_EQ(events[1].step, 20);
  EXPECT_FLOAT_EQ(events[1].scalars.at("eval/disc_auc"), 0.75f);
  EXPECT_GT(events[1].wall_time, 1.6e9);
}

TEST(TensorBoard, ADamagedRecordIsReportedWithItsOffset) {
  testing::TempDir dir;
  std::string path;
  {
    TensorBoardWriter writer(dir.path().string());
    writer.add_scalars(1, {{"train/loss", 1.0}});
    path = writer.path();
  }
  std::string bytes = testing::read_file(path);
  bytes[bytes.size() - 6] ^= 0x20;  // inside the last record's data
  testing::write_file(path, bytes);
  try {
    read_tensorboard_events(path);
    FAIL() << "a damaged record was read";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("CRC mismatch"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(MetricsLog, WritesJsonLinesAndTensorBoardAndDropsRecordsAfterAResumedStep) {
  testing::TempDir dir;
  {
    MetricsLog log(dir.path().string(), 0);
    for (long long step : {10, 20, 30})
      log.write({{"kind", "train"}, {"step", step}, {"loss", 1.0}});
    log.write({{"kind", "eval"}, {"step", 30}, {"mlm_accuracy", 0.5}});
  }
  ASSERT_EQ(read_metrics(dir / "metrics.jsonl").size(), 4u);
  {
    MetricsLog resumed(dir.path().string(), 20);  // the checkpoint was at step 20
    resumed.write({{"kind", "train"}, {"step", 30}, {"loss", 0.5}});
  }
  const auto records = read_metrics(dir / "metrics.jsonl");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[2]["loss"], 0.5);
  size_t events = 0;
  for (const auto& entry : fs::directory_iterator(dir / "tensorboard")) {
    events += read_tensorboard_events(entry.path().string()).size();
  }
  EXPECT_EQ(events, 5u);  // 4 from the first run, 1 from the resumed one
}

}  // namespace
}  // namespace electra::train
