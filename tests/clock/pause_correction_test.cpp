// The translation across pauses: readings before a pause keep their time, readings after it move
// by the measured jump; several pauses add up; a pause whose guest clock ran on (KVM) moves
// nothing.
#include "clock/pause_correction.h"

#include <gtest/gtest.h>

namespace vtrace::clock {
namespace {

// A guest clock that stands still while paused (TCG): the model, fit before the pause,
// translates a reading taken at real time r after a pause [s, s + len) to r - len.
TEST(PauseCorrection, ReadingsAfterAPauseMoveByTheMeasuredJump) {
  PauseCorrection pc;
  EXPECT_EQ(pc.to_real(5000), 5000u);
  pc.stop(10'000, 9'990);
  EXPECT_TRUE(pc.awaiting());
  EXPECT_FALSE(pc.resumed());
  pc.resume(12'000);
  EXPECT_TRUE(pc.resumed());
  // The first ping after the resume: real 12'500, the model says 10'500.
  pc.measured(10'500, 12'500, 30);
  EXPECT_FALSE(pc.awaiting());
  EXPECT_EQ(pc.pauses()[0].jump_ns, 2000);
  EXPECT_EQ(pc.to_real(9'999), 9'999u);    // before the stop: as it was
  EXPECT_EQ(pc.to_real(10'700), 12'700u);  // after: 2 us later
  EXPECT_EQ(pc.total_jump_ns(), 2000);
  // Between the last reading seen before the stop and the stop: it may be either side.
  EXPECT_EQ(pc.ambiguous(9'990), nullptr);
  EXPECT_NE(pc.ambiguous(9'995), nullptr);
  EXPECT_NE(pc.ambiguous(10'000), nullptr);
  EXPECT_EQ(pc.ambiguous(10'001), nullptr);
}

TEST(PauseCorrection, PausesAddUp) {
  PauseCorrection pc;
  pc.stop(10'000, 9'990);
  pc.resume(12'000);
  pc.measured(10'100, 12'100, 0);  // jump 2000
  // Second pause at real 20'000 (virtual 18'000), 5000 long.
  pc.stop(20'000, 17'990);
  EXPECT_EQ(pc.pauses()[1].stop_virtual_ns, 18'000u);
  pc.resume(25'000);
  // Real 25'100 is virtual 18'100 in the model (it saw neither pause).
  pc.measured(18'100, 25'100, 0);
  EXPECT_EQ(pc.pauses()[1].jump_ns, 5000);
  EXPECT_EQ(pc.to_real(15'000), 17'000u);  // between the pauses
  EXPECT_EQ(pc.to_real(18'500), 25'500u);  // after both
  EXPECT_EQ(pc.total_jump_ns(), 7000);
}

TEST(PauseCorrection, AClockThatRanOnMovesNothing) {
  PauseCorrection pc;
  pc.stop(10'000, 9'990);
  pc.resume(12'000);
  pc.measured(12'500, 12'500, 40);  // KVM: the guest TSC kept running
  EXPECT_EQ(pc.pauses()[0].jump_ns, 0);
  EXPECT_EQ(pc.to_real(12'600), 12'600u);
}

// A step no QEMU event announced, found when a watermark no longer fitted: readings after the
// latest one seen before it move by the jump measured next; those up to the first reading seen
// after it may come from either side (placed after it, counted).
TEST(PauseCorrection, AStepFoundByItsReadingsMovesWhatCameAfterIt) {
  PauseCorrection pc;
  pc.step(50'000, 40'000, 40'300);  // the clock stood still for 10 us without a STOP event
  EXPECT_TRUE(pc.awaiting());
  EXPECT_TRUE(pc.resumed());  // nothing to wait for but the measurement
  pc.measured(40'400, 50'400, 50);
  EXPECT_FALSE(pc.awaiting());
  EXPECT_FALSE(pc.pauses()[0].announced);
  EXPECT_EQ(pc.pauses()[0].jump_ns, 10'000);
  EXPECT_EQ(pc.to_real(39'000), 39'000u);
  EXPECT_EQ(pc.to_real(40'500), 50'500u);
  ASSERT_NE(pc.ambiguous(40'100), nullptr);
  EXPECT_FALSE(pc.ambiguous(40'100)->announced);
  EXPECT_EQ(pc.to_real(40'100), 50'100u);  // placed after the step
  EXPECT_EQ(pc.ambiguous(40'000), nullptr);
  EXPECT_EQ(pc.ambiguous(40'301), nullptr);
}

TEST(PauseCorrection, AStepForwardMovesLaterReadingsBack) {
  PauseCorrection pc;
  pc.step(40'000, 39'990, 90'000);  // the guest's clock jumped 50 us ahead
  pc.measured(90'100, 40'100, 20);
  EXPECT_EQ(pc.pauses()[0].jump_ns, -50'000);
  EXPECT_EQ(pc.to_real(90'200), 40'200u);
  EXPECT_EQ(pc.to_real(39'000), 39'000u);
  EXPECT_EQ(pc.total_jump_ns(), -50'000);
}

// The clock went back past readings seen before (a TSC written lower): values cannot say which
// side a reading is on, so everything translated after the measurement is after it.
TEST(PauseCorrection, AClockThatWentBackPlacesEveryLaterReadingAfterIt) {
  PauseCorrection pc;
  pc.step(10'000'000, 9'000'000, 4'000'000);  // seen up to 9 ms, then readings at 4 ms
  pc.measured(4'000'100, 10'000'100, 30);
  EXPECT_TRUE(pc.pauses()[0].went_back);
  EXPECT_EQ(pc.pauses()[0].jump_ns, 6'000'000);
  EXPECT_EQ(pc.to_real(4'000'200), 10'000'200u);
  EXPECT_EQ(pc.to_real(8'000'000), 14'000'000u);  // below the boundary, still after the step
  // A pause after it applies by value again.
  pc.stop(20'000'000, 13'900'000);  // virtual 14 ms
  pc.resume(21'000'000);
  pc.measured(14'000'100, 21'000'100, 30);
  EXPECT_FALSE(pc.pauses()[1].went_back);
  EXPECT_EQ(pc.to_real(13'500'000), 19'500'000u);
  EXPECT_EQ(pc.to_real(14'000'200), 21'000'200u);
}

// A TCG pause measured a little before the latest reading seen (the model's error) is not a
// clock that went back.
TEST(PauseCorrection, AMeasurementWithinTheModelsErrorIsNotAClockThatWentBack) {
  PauseCorrection pc;
  pc.stop(10'000'000, 9'999'000);
  pc.resume(12'000'000);
  pc.measured(9'998'900, 12'000'000, 30);
  EXPECT_FALSE(pc.pauses()[0].went_back);
}

}  // namespace
}  // namespace vtrace::clock
