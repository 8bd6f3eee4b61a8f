// Drop counts a traced process writes are checked before they are reported (issue 9, item 6).
#include "targets/process/target_counter.h"

#include <gtest/gtest.h>

namespace vtrace::targets {
namespace {

constexpr uint64_t kSecond = 1'000'000'000;

TEST(TargetCounter, PlausibleCountsAreTaken) {
  TargetCounter c(kSecond);
  EXPECT_TRUE(c.update(0, kSecond));
  EXPECT_TRUE(c.update(1000, kSecond + 1'000'000));
  EXPECT_TRUE(c.update(1000, kSecond + 2'000'000));
  EXPECT_TRUE(c.update(5'000'000, 2 * kSecond));
  EXPECT_EQ(c.value(), 5'000'000u);
  EXPECT_FALSE(c.bad());
}

TEST(TargetCounter, ACountThatGoesBackwardsIsBadForGood) {
  TargetCounter c(0);
  EXPECT_TRUE(c.update(100, kSecond));
  EXPECT_FALSE(c.update(99, 2 * kSecond));
  EXPECT_TRUE(c.bad());
  EXPECT_FALSE(c.update(200, 3 * kSecond));  // bad stays bad
  EXPECT_EQ(c.value(), 100u);                // the last plausible reading
}

TEST(TargetCounter, AnImpossibleJumpIsBad) {
  TargetCounter c(0);
  EXPECT_FALSE(c.update(1967016172124798215ull, 10 * kSecond));  // the raw value
  EXPECT_TRUE(c.bad());
  EXPECT_EQ(c.value(), 0u);
  TargetCounter d(0);
  EXPECT_TRUE(d.update(1000, kSecond));
  // Within 1 ms no machine drops 2^32 records.
  EXPECT_FALSE(d.update(1000 + (uint64_t{1} << 32), kSecond + 1'000'000));
}

TEST(TargetCounter, GrowthBoundNeverOverflows) {
  EXPECT_EQ(TargetCounter::max_growth(UINT64_MAX), UINT64_MAX);
  EXPECT_GE(TargetCounter::max_growth(0), 1u);
  TargetCounter c(UINT64_MAX - 5);
  EXPECT_TRUE(c.update(10, 0));  // a clock that went backwards gives no room, not a wrap
  EXPECT_FALSE(c.update(UINT64_MAX, 1));
}

}  // namespace
}  // namespace vtrace::targets
