#include "clock/guest_clock.h"

#include <gtest/gtest.h>

#include <random>

namespace vtrace::clock {
namespace {

// A simulated guest whose TSC is floor(host * scale) + offset, pinged from a host whose ping
// round trips take `base` ticks plus exponential jitter, with an occasional long preemption.
struct Sim {
  long double scale = 1.0L;
  int64_t offset = 0;
  uint64_t now = 10'000'000'000'000ull;  // host TSC
  uint64_t base = 2000;
  std::mt19937_64 rng{42};

  uint64_t guest_at(uint64_t h) const {
    return static_cast<uint64_t>(static_cast<long double>(h) * scale) +
           static_cast<uint64_t>(offset);
  }
  // One ping; `truth` is the host TSC at which the guest read its clock.
  HandshakeSample ping(uint64_t* truth = nullptr) {
    std::exponential_distribution<double> jitter(1.0 / 500);
    uint64_t w = base + static_cast<uint64_t>(jitter(rng));
    if (rng() % 20 == 0) w += 200'000;  // preempted
    const uint64_t read = now + rng() % (w + 1);
    HandshakeSample s{now, guest_at(read), now + w};
    if (truth) *truth = read;
    now += w + 300;
    return s;
  }
  std::vector<HandshakeSample> burst(size_t n = 16) {
    std::vector<HandshakeSample> b;
    for (size_t i = 0; i < n; ++i) b.push_back(ping());
    return b;
  }
  void wait(uint64_t ticks) { now += ticks; }
};

int64_t diff(uint64_t a, uint64_t b) {
  return static_cast<int64_t>(a - b);
}

// Feeds `bursts` bursts 10 ms (at 2.6 GHz) apart.
void feed(Sim& sim, GuestClock& clock, int bursts) {
  for (int i = 0; i < bursts; ++i) {
    clock.add_burst(sim.burst());
    sim.wait(26'000'000);
  }
}

// feed(), then checks that every later reading, up to the whole calibration baseline past the
// last burst, translates within its bound of the truth.
void calibrate_and_check(Sim& sim, GuestClock& clock, int bursts = 10) {
  feed(sim, clock, bursts);
  ASSERT_TRUE(clock.ready());
  EXPECT_EQ(clock.source(), "measured");
  for (int i = 0; i < 200; ++i) {
    uint64_t truth;
    const HandshakeSample s = sim.ping(&truth);
    const uint64_t bound = clock.bound_ticks(s.guest);
    EXPECT_LE(std::abs(diff(clock.to_host_tsc(s.guest), truth)), static_cast<int64_t>(bound))
        << "reading " << i;
    EXPECT_TRUE(clock.consistent(s)) << "reading " << i;
    sim.wait(1'300'000);
  }
}

TEST(GuestClock, NotReadyUntilTwoBursts) {
  Sim sim;
  GuestClock clock;
  EXPECT_FALSE(clock.ready());
  clock.add_burst(sim.burst());
  EXPECT_FALSE(clock.ready());
  EXPECT_FALSE(clock.consistent(sim.ping()));
  EXPECT_EQ(clock.describe(0.4), "measured, not calibrated");
  sim.wait(1'000'000);
  clock.add_burst(sim.burst());
  EXPECT_TRUE(clock.ready());
}

TEST(GuestClock, ConstantOffsetWithJitter) {
  Sim sim;
  sim.offset = -260'000'000'000;  // the guest TSC 100 s behind
  GuestClock clock;
  calibrate_and_check(sim, clock);
  // Brackets of ~2000 ticks over a 2.6e8-tick baseline pin the scale to about 1e-5.
  EXPECT_NEAR(clock.scale(), 1.0, 1e-5);
  // The bound now is about the tightest bracket's half width, not a preempted one's.
  EXPECT_LT(clock.bound_ticks(), 5 * sim.base);
  EXPECT_EQ(clock.bursts(), 10u);
  EXPECT_EQ(clock.rejected_bursts(), 0u);
}

TEST(GuestClock, EstimatesScale) {
  Sim sim;
  sim.scale = 1.0001L;
  sim.offset = 12345;
  GuestClock clock;
  calibrate_and_check(sim, clock);
  EXPECT_NEAR(clock.scale(), 1.0001, 1e-5);
}

TEST(GuestClock, EstimatesKvmStyleScaling) {
  Sim sim;
  sim.scale = 2.0L / 3.0L;  // a guest TSC of 2 GHz on a 3 GHz host
  GuestClock clock;
  calibrate_and_check(sim, clock);
  EXPECT_NEAR(clock.scale(), 2.0 / 3.0, 1e-5);
}

TEST(GuestClock, BoundGrowsWithDistanceFromAnchors) {
  Sim sim;
  sim.scale = 1.0001L;
  GuestClock clock;
  feed(sim, clock, 3);
  ASSERT_TRUE(clock.ready());
  const uint64_t near = clock.bound_ticks();
  const uint64_t far = clock.bound_ticks(sim.guest_at(sim.now + 26'000'000'000ull));  // 10 s on
  EXPECT_GT(far, 100 * near);
  EXPECT_LT(far, UINT64_MAX / 2);
}

TEST(GuestClock, GarbageSamplesDoNotPoisonTheEstimate) {
  Sim clean_sim, dirty_sim;
  clean_sim.offset = dirty_sim.offset = 777;
  GuestClock clean, dirty;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 8; ++i) {
    auto b = clean_sim.burst();
    (void)dirty_sim.burst();  // keep the two simulations in step
    clean.add_burst(b);
    // A few garbage readings in each burst, some of them the tightest brackets.
    b.push_back({b[3].host_after, 5, b[3].host_before});                // inverted bracket
    b.push_back({b[5].host_before, UINT64_MAX, b[5].host_before + 1});  // huge reading
    b.push_back({b[6].host_before, 0, b[6].host_before});               // zero reading
    b.push_back({UINT64_MAX - 10, b[7].guest, UINT64_MAX - 10});        // huge host times
    b.push_back({b[8].host_before, b[8].guest + 5'000'000, b[8].host_before + 1});
    std::shuffle(b.begin(), b.end(), rng);
    dirty.add_burst(b);
    clean_sim.wait(26'000'000);
    dirty_sim.wait(26'000'000);
  }
  ASSERT_TRUE(dirty.ready());
  EXPECT_GE(dirty.ignored_samples(), 8u * 5);
  EXPECT_EQ(dirty.rejected_bursts(), 0u);
  const uint64_t probe = clean_sim.guest_at(clean_sim.now);
  EXPECT_EQ(dirty.to_host_tsc(probe), clean.to_host_tsc(probe));
  EXPECT_EQ(dirty.bound_ticks(probe), clean.bound_ticks(probe));
  // Garbage readings translate to something defined (saturated), far outside any bracket now.
  for (uint64_t g : {uint64_t{0}, uint64_t{1}, UINT64_MAX, UINT64_MAX / 2, uint64_t{1} << 63}) {
    (void)dirty.to_host_tsc(g);
    EXPECT_FALSE(dirty.consistent({clean_sim.now, g, clean_sim.now + 1000})) << g;
  }
  EXPECT_TRUE(dirty.consistent({clean_sim.now, probe, clean_sim.now}));
}

TEST(GuestClock, AllGarbageBurstsAreHarmless) {
  Sim sim;
  GuestClock clock;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 50; ++i) {
    std::vector<HandshakeSample> b(16);
    for (auto& s : b) s = {rng(), rng(), rng()};
    clock.add_burst(b);
    clock.add_burst({});
  }
  (void)clock.to_host_tsc(rng());
  (void)clock.bound_ticks(rng());
  (void)clock.describe(0.38);
  // Honest bursts afterwards: a garbage fit, if any, is replaced once they agree with each other.
  calibrate_and_check(sim, clock, 2 * static_cast<int>(GuestClock::kConfirmSteps) + 2);
}

TEST(GuestClock, AWholeGarbageBurstIsRejected) {
  Sim sim;
  GuestClock clock;
  feed(sim, clock, 4);
  auto b = sim.burst();
  for (auto& s : b) s.guest += 1'000'000'000;  // every reading 0.4 s off
  clock.add_burst(b);
  EXPECT_EQ(clock.rejected_bursts(), 1u);
  calibrate_and_check(sim, clock, 2);
}

TEST(GuestClock, FollowsASteppedClock) {
  Sim sim;
  GuestClock clock;
  feed(sim, clock, 4);
  sim.offset += 2'600'000'000;  // the guest clock jumps 1 s (a VM paused and resumed)
  EXPECT_TRUE(clock.steps().empty());
  calibrate_and_check(sim, clock, static_cast<int>(GuestClock::kConfirmSteps) + 1);
  EXPECT_EQ(clock.rejected_bursts(), GuestClock::kConfirmSteps);
  // The step is told with its size: readings translated before it came out 2.6e9 ticks late.
  ASSERT_EQ(clock.steps().size(), 1u);
  EXPECT_NEAR(static_cast<double>(clock.steps()[0].ticks), 2.6e9, 1e5);
  EXPECT_FALSE(clock.step_pending());
}

TEST(GuestClock, ExactInvertsKvmScaling) {
  std::mt19937_64 rng(1);
  struct Case {
    int64_t offset;
    uint64_t ratio;
    uint32_t frac;
  };
  for (const Case c : {Case{-260'000'000'000, 1, 0}, Case{5, 1ull << 48, 48},
                       Case{-123456789, (3ull << 47), 48},        // 1.5, VMX-style 48 bits
                       Case{987654321, 0x1'0001'0000ull, 32}}) {  // ~1.0000153, SVM-style 32
    GuestClock clock;
    ASSERT_TRUE(clock.set_exact(c.offset, c.ratio, c.frac));
    EXPECT_TRUE(clock.ready());
    EXPECT_EQ(clock.source(), "kvm");
    EXPECT_EQ(clock.bound_ticks(), 0u);
    EXPECT_EQ(clock.describe(0.38), "kvm, exact");
    for (int i = 0; i < 1000; ++i) {
      const uint64_t h = rng() >> 8;
      const uint64_t g =
          static_cast<uint64_t>((static_cast<unsigned __int128>(h) * c.ratio) >> c.frac) +
          static_cast<uint64_t>(c.offset);
      ASSERT_EQ(clock.to_host_tsc(g), h) << "ratio " << c.ratio << " frac " << c.frac;
      EXPECT_TRUE(clock.consistent({h, g, h}));
      EXPECT_FALSE(clock.consistent({h + 1, g, h + 2}));
    }
  }
}

TEST(GuestClock, ExactSlowerGuestBoundsTheTruncation) {
  GuestClock clock;
  ASSERT_TRUE(clock.set_exact(0, 3ull << 30, 32));  // guest at 0.75x: 4 host ticks per 3
  EXPECT_EQ(clock.bound_ticks(), 1u);
  for (uint64_t h = 1'000'000; h < 1'000'100; ++h) {
    const uint64_t g = (h * (3ull << 30)) >> 32;
    EXPECT_LE(std::abs(diff(clock.to_host_tsc(g), h)), 1) << h;
  }
  EXPECT_NEAR(clock.scale(), 0.75, 1e-12);
}

TEST(GuestClock, RejectsInvalidExactParameters) {
  GuestClock clock;
  EXPECT_FALSE(clock.set_exact(0, 0, 0));
  EXPECT_FALSE(clock.set_exact(0, 1, 64));
  EXPECT_FALSE(clock.ready());
}

TEST(GuestClock, DescribeGivesTheBoundInMicroseconds) {
  Sim sim;
  GuestClock clock;
  feed(sim, clock, 3);
  const std::string d = clock.describe(1000.0);  // 1 us per tick: the bound in ticks
  EXPECT_EQ(d, "measured, +-" + std::to_string(clock.bound_ticks()) + ".0 us") << d;
}

}  // namespace
}  // namespace vtrace::clock
