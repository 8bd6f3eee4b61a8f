// The one merge by translated time (clock/time_merge.h) with synthetic sources: interleavings,
// watermarks, a stalled source, late records, equal timestamps, flush, and a randomized run
// whose output must be the sorted input whenever no source stalls.
#include "clock/time_merge.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace vtrace::clock {
namespace {

constexpr uint64_t kHold = 1000;

struct Out {
  std::vector<int> items;
  std::vector<bool> late;
  void operator()(int& item, uint32_t, bool is_late) {
    items.push_back(item);
    late.push_back(is_late);
  }
};

TEST(TimeMerge, ReleasesInTimeOrderUpToTheSlowestWatermark) {
  TimeMerge<int> m(kHold);
  const uint32_t a = m.add_source(), b = m.add_source();
  for (int t : {10, 30, 50}) m.push(a, t, t, 0);
  for (int t : {20, 40, 60}) m.push(b, t, t, 0);
  Out out;
  EXPECT_EQ(m.release(0, std::ref(out)), 0u);  // no watermark yet: everything is held
  m.set_watermark(a, 55);
  m.set_watermark(b, 35);
  EXPECT_EQ(m.release(0, std::ref(out)), 3u);
  EXPECT_EQ(out.items, (std::vector<int>{10, 20, 30}));
  m.set_watermark(b, 100);
  m.release(0, std::ref(out));
  EXPECT_EQ(out.items, (std::vector<int>{10, 20, 30, 40, 50}));  // 60 waits for a
  m.set_watermark(a, 100);
  m.release(0, std::ref(out));
  EXPECT_EQ(out.items, (std::vector<int>{10, 20, 30, 40, 50, 60}));
  EXPECT_EQ(m.held(), 0u);
  EXPECT_EQ(m.late(a) + m.late(b) + m.stalls(a) + m.stalls(b), 0u);
}

TEST(TimeMerge, AStalledSourceHoldsTheOthersOnlyMaxHold) {
  TimeMerge<int> m(kHold);
  const uint32_t fast = m.add_source(), stalled = m.add_source();
  m.push(fast, 10, 10, 100);
  m.push(fast, 20, 20, 200);
  m.set_watermark(fast, 1000);
  Out out;
  EXPECT_EQ(m.release(100 + kHold - 1, std::ref(out)), 0u);
  EXPECT_EQ(m.release(100 + kHold, std::ref(out)), 1u);  // 10 waited max_hold
  EXPECT_EQ(m.stalls(stalled), 1u);
  EXPECT_EQ(m.stalls(fast), 0u);
  EXPECT_EQ(m.release(200 + kHold, std::ref(out)), 1u);
  EXPECT_EQ(m.stalls(stalled), 1u);  // one stall, not one per record
  // It wakes up with a record older than what went out: released at once, counted late.
  m.push(stalled, 15, 15, 5000);
  EXPECT_EQ(m.release(5000, std::ref(out)), 1u);
  EXPECT_EQ(out.items, (std::vector<int>{10, 20, 15}));
  EXPECT_EQ(out.late, (std::vector<bool>{false, false, true}));
  EXPECT_EQ(m.late(stalled), 1u);
  // Caught up, it is merged again; a second stall is a second count.
  m.set_watermark(stalled, 2000);
  m.push(fast, 3000, 3000, 6000);
  m.set_watermark(fast, 4000);
  EXPECT_EQ(m.release(6000, std::ref(out)), 0u);
  EXPECT_EQ(m.release(6000 + kHold, std::ref(out)), 1u);
  EXPECT_EQ(m.stalls(stalled), 2u);
}

TEST(TimeMerge, EqualTimestampsComeOutInArrivalOrder) {
  TimeMerge<int> m(kHold);
  const uint32_t a = m.add_source(), b = m.add_source();
  m.push(b, 5, 1, 0);
  m.push(a, 5, 2, 0);
  m.push(b, 5, 3, 0);
  m.push(a, 4, 0, 0);
  m.set_watermark(a, 5);
  m.set_watermark(b, 5);
  Out out;
  m.release(0, std::ref(out));
  EXPECT_EQ(out.items, (std::vector<int>{0, 1, 2, 3}));
}

TEST(TimeMerge, ASourceThatIsNotLiveHoldsNothingBack) {
  TimeMerge<int> m(kHold);
  const uint32_t a = m.add_source(), gone = m.add_source();
  m.push(a, 10, 10, 0);
  m.set_watermark(a, 10);
  Out out;
  EXPECT_EQ(m.release(0, std::ref(out)), 0u);
  m.set_live(gone, false);
  EXPECT_EQ(m.release(0, std::ref(out)), 1u);
  EXPECT_EQ(m.stalls(gone), 0u);
}

TEST(TimeMerge, FlushReleasesEverythingInOrder) {
  TimeMerge<int> m(kHold);
  const uint32_t a = m.add_source(), b = m.add_source();
  for (int t : {7, 3, 9}) m.push(a, t, t, 0);
  m.push(b, 5, 5, 0);
  Out out;
  EXPECT_EQ(m.release(0, std::ref(out), true), 4u);
  EXPECT_EQ(out.items, (std::vector<int>{3, 5, 7, 9}));
}

TEST(TimeMerge, ALoweredWatermarkHoldsLaterRecords) {
  TimeMerge<int> m(kHold);
  const uint32_t a = m.add_source(), b = m.add_source();
  m.set_watermark(a, 50);
  m.set_watermark(b, 50);
  m.push(a, 40, 40, 0);
  Out out;
  EXPECT_EQ(m.release(0, std::ref(out)), 1u);
  m.set_watermark(b, 30);  // b may still deliver records from 30 on
  m.push(a, 45, 45, 0);
  EXPECT_EQ(m.release(0, std::ref(out)), 0u);
  m.push(b, 42, 42, 0);
  m.set_watermark(b, 60);
  EXPECT_EQ(m.release(0, std::ref(out)), 2u);
  EXPECT_EQ(out.items, (std::vector<int>{40, 42, 45}));
}

// Sources with increasing timestamps, delivered in random batches with a random delay, each
// advancing its watermark to the last timestamp it has delivered: the output is exactly the
// sorted input, nothing late, nothing lost.
TEST(TimeMerge, RandomInterleavingsComeOutSorted) {
  std::mt19937_64 rng(42);
  for (int trial = 0; trial < 20; ++trial) {
    TimeMerge<uint64_t> m(UINT64_MAX);
    const int nsrc = 2 + trial % 5;
    std::vector<std::vector<uint64_t>> pending(nsrc);
    std::vector<uint64_t> all;
    for (int s = 0; s < nsrc; ++s) {
      m.add_source();
      uint64_t t = rng() % 100;
      for (int i = 0; i < 500; ++i) {
        t += rng() % 50;  // equal timestamps too
        pending[s].push_back(t);
        all.push_back(t);
      }
    }
    std::vector<uint64_t> out;
    auto run = [&](uint64_t& v, uint32_t, bool late) {
      EXPECT_FALSE(late);
      out.push_back(v);
    };
    std::vector<size_t> next(nsrc, 0);
    for (bool more = true; more;) {
      more = false;
      for (int s = 0; s < nsrc; ++s) {
        const size_t n = std::min(pending[s].size() - next[s], static_cast<size_t>(rng() % 20));
        for (size_t i = 0; i < n; ++i, ++next[s])
          m.push(s, pending[s][next[s]], pending[s][next[s]], 0);
        if (next[s] > 0) m.set_watermark(s, pending[s][next[s] - 1]);
        if (next[s] == pending[s].size()) m.set_live(s, false);
        more = more || next[s] < pending[s].size();
      }
      m.release(0, run);
    }
    m.release(0, run, true);
    std::sort(all.begin(), all.end());
    EXPECT_EQ(out, all) << "trial " << trial;
  }
}

}  // namespace
}  // namespace vtrace::clock
