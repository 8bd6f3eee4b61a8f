// profile:::tick-N / profile-N: period parsing for every unit, and the timer schedule driven
// with synthetic times.
#include "engine/profile_provider.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace vtrace::engine {
namespace {

constexpr uint64_t kUs = 1000, kMs = 1000000, kS = 1000000000;

TEST(ProfileProviderTest, ParsePeriodEveryUnit) {
  using P = ProfileProvider;
  EXPECT_EQ(P::parse_period("tick-10000ns"), 10 * kUs);
  EXPECT_EQ(P::parse_period("tick-20000nsec"), 20 * kUs);
  EXPECT_EQ(P::parse_period("tick-10us"), 10 * kUs);
  EXPECT_EQ(P::parse_period("tick-50usec"), 50 * kUs);
  EXPECT_EQ(P::parse_period("tick-10ms"), 10 * kMs);
  EXPECT_EQ(P::parse_period("tick-3msec"), 3 * kMs);
  EXPECT_EQ(P::parse_period("tick-1s"), kS);
  EXPECT_EQ(P::parse_period("tick-2sec"), 2 * kS);
  EXPECT_EQ(P::parse_period("tick-1m"), 60 * kS);
  EXPECT_EQ(P::parse_period("tick-2min"), 120 * kS);
  EXPECT_EQ(P::parse_period("tick-1h"), 3600 * kS);
  EXPECT_EQ(P::parse_period("tick-1hour"), 3600 * kS);
  EXPECT_EQ(P::parse_period("tick-1d"), 86400 * kS);
  EXPECT_EQ(P::parse_period("tick-2day"), 2 * 86400 * kS);
  EXPECT_EQ(P::parse_period("tick-100hz"), 10 * kMs);
  EXPECT_EQ(P::parse_period("tick-1hz"), kS);
  // A bare number is a frequency in hz.
  EXPECT_EQ(P::parse_period("tick-1000"), kMs);
  EXPECT_EQ(P::parse_period("profile-97"), kS / 97);
  EXPECT_EQ(P::parse_period("profile-4999"), kS / 4999);
  EXPECT_EQ(P::parse_period("profile-1ms"), kMs);
}

TEST(ProfileProviderTest, ParsePeriodRejectsBadNames) {
  using P = ProfileProvider;
  for (const char* bad :
       {"tick-", "tick", "tick-ms", "tick-0", "tick-0hz", "tick-0ms", "tick-10xs", "tick-10 ms",
        "tick-10MS", "tick--1s", "tick-1.5s", "tock-1s", "profile", "BEGIN", "", "tick-1s ",
        "Tick-1s", "tick-99999999999999999999999s", "tick-999999999999d"})
    EXPECT_FALSE(P::parse_period(bad).has_value()) << "\"" << bad << "\"";
}

TEST(ProfileProviderTest, ParsePeriodHasAFloor) {
  using P = ProfileProvider;
  // Periods under 10 us are refused (they would only measure the timer).
  EXPECT_FALSE(P::parse_period("tick-1ns").has_value());
  EXPECT_FALSE(P::parse_period("tick-9999ns").has_value());
  EXPECT_FALSE(P::parse_period("tick-1us").has_value());
  EXPECT_FALSE(P::parse_period("tick-200000hz").has_value());
  EXPECT_EQ(P::parse_period("tick-100000hz"), 10 * kUs);
}

struct Fixture {
  Catalog cat;
  ProfileProvider prof{cat};
  uint32_t id(const std::string& name) {
    bytecode::ProbeSpec s;
    s.provider = "profile";
    s.name = name;
    auto ids = cat.match(s);
    EXPECT_EQ(ids.size(), 1u) << name;
    return ids.empty() ? 0 : ids[0];
  }
};

TEST(ProfileProviderTest, NothingArmed) {
  Fixture f;
  EXPECT_FALSE(f.prof.armed());
  EXPECT_EQ(f.prof.next_deadline(), UINT64_MAX);
  std::vector<uint32_t> fired;
  f.prof.collect_due(UINT64_MAX - 1, fired);
  EXPECT_TRUE(fired.empty());
  // Probes of other providers are not timers.
  uint32_t other = f.cat.add("host", "test", "", "", "tick-1s");
  f.prof.arm({kProbeBegin, other}, 0);
  EXPECT_FALSE(f.prof.armed());
}

TEST(ProfileProviderTest, FirstFiringIsOnePeriodAfterArming) {
  Fixture f;
  uint32_t t10 = f.id("tick-10ms");
  const uint64_t now = 5 * kS;
  f.prof.arm({t10}, now);
  EXPECT_TRUE(f.prof.armed());
  EXPECT_EQ(f.prof.next_deadline(), now + 10 * kMs);
  std::vector<uint32_t> fired;
  f.prof.collect_due(now + 10 * kMs - 1, fired);
  EXPECT_TRUE(fired.empty());
  f.prof.collect_due(now + 10 * kMs, fired);
  EXPECT_EQ(fired, std::vector<uint32_t>{t10});
  EXPECT_EQ(f.prof.next_deadline(), now + 20 * kMs);
}

TEST(ProfileProviderTest, DueProbesComeEarliestFirst) {
  Fixture f;
  uint32_t t25 = f.id("tick-25ms");
  uint32_t t10 = f.id("tick-10ms");
  uint32_t t20 = f.id("tick-20ms");
  f.prof.arm({t25, t20, t10}, 0);
  EXPECT_EQ(f.prof.next_deadline(), 10 * kMs);
  std::vector<uint32_t> fired;
  f.prof.collect_due(25 * kMs, fired);
  // Deadlines 10 (t10), 20 (t20), 25 (t25); t10 was also due at 20 but fires once.
  EXPECT_EQ(fired, (std::vector<uint32_t>{t10, t20, t25}));
  EXPECT_EQ(f.prof.next_deadline(), 30 * kMs);  // t10's next
  fired.clear();
  f.prof.collect_due(30 * kMs, fired);
  EXPECT_EQ(fired, std::vector<uint32_t>{t10});
  // Appends: it does not clear what the caller holds. t10 and t20 both fall due at 40 ms.
  f.prof.collect_due(40 * kMs, fired);
  ASSERT_EQ(fired.size(), 3u);
  EXPECT_EQ(fired[0], t10);
  EXPECT_EQ((std::vector<uint32_t>{std::min(fired[1], fired[2]), std::max(fired[1], fired[2])}),
            (std::vector<uint32_t>{std::min(t10, t20), std::max(t10, t20)}));
}

TEST(ProfileProviderTest, MissedPeriodsAreSkipped) {
  Fixture f;
  uint32_t t10 = f.id("tick-10ms");
  f.prof.arm({t10}, 0);
  std::vector<uint32_t> fired;
  // 55 ms late: deadlines 10..50 passed; one firing, the next deadline is the next multiple.
  f.prof.collect_due(55 * kMs, fired);
  EXPECT_EQ(fired, std::vector<uint32_t>{t10});
  EXPECT_EQ(f.prof.next_deadline(), 60 * kMs);
  fired.clear();
  f.prof.collect_due(59 * kMs, fired);
  EXPECT_TRUE(fired.empty());
  // Exactly on a deadline after missing some.
  f.prof.collect_due(90 * kMs, fired);
  EXPECT_EQ(fired, std::vector<uint32_t>{t10});
  EXPECT_EQ(f.prof.next_deadline(), 100 * kMs);
}

TEST(ProfileProviderTest, ProfileNIsSampledNotATimer) {
  // profile-N fires on every CPU in the interrupted context (the host kernel target samples it):
  // the tracer's timer must not fire it in vtrace's own context.
  Fixture f;
  uint32_t p997 = f.id("profile-997");
  uint32_t p10ms = f.id("profile-10ms");
  uint32_t t10 = f.id("tick-10ms");
  f.prof.arm({p997, p10ms}, 0);
  EXPECT_FALSE(f.prof.armed());
  std::vector<uint32_t> fired;
  f.prof.collect_due(kS, fired);
  EXPECT_TRUE(fired.empty());
  f.prof.arm({p997, t10}, 0);
  f.prof.collect_due(10 * kMs, fired);
  EXPECT_EQ(fired, std::vector<uint32_t>{t10});

  EXPECT_EQ(ProfileProvider::sample_period(f.cat.probe(p997)), 1000000000ull / 997);
  EXPECT_EQ(ProfileProvider::sample_period(f.cat.probe(p10ms)), 10 * kMs);
  EXPECT_FALSE(ProfileProvider::sample_period(f.cat.probe(t10)));
  EXPECT_FALSE(ProfileProvider::sample_period(f.cat.probe(kProbeBegin)));
  uint32_t other = f.cat.add("host", "test", "", "", "profile-97");
  EXPECT_FALSE(ProfileProvider::sample_period(f.cat.probe(other)));
}

TEST(ProfileProviderTest, RearmReplacesTimers) {
  Fixture f;
  uint32_t t10 = f.id("tick-10ms");
  uint32_t t1s = f.id("tick-1sec");
  f.prof.arm({t10}, 0);
  f.prof.arm({t1s}, 0);
  EXPECT_EQ(f.prof.next_deadline(), kS);
}

}  // namespace
}  // namespace vtrace::engine
