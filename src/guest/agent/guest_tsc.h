// The guest's TSC and a linear map from CLOCK_MONOTONIC to it. Guest records carry raw TSC values
// (the host translates them, DESIGN.md section 4), but perf stamps kernel events with
// CLOCK_MONOTONIC: the agent converts those with this map. The map comes from paired (rdtsc,
// clock_gettime) readings; refresh() re-anchors it so drift between the two clocks (NTP slewing,
// a non-TSC clocksource under TCG) stays bounded.
//
// Not thread-safe except read_tsc(): one thread calibrates, refreshes and converts.
#pragma once
#include <cstdint>

namespace vtrace::guest {

class GuestTsc {
 public:
  // rdtsc (CLOCK_MONOTONIC_RAW ns on a CPU without a TSC).
  static uint64_t read_tsc();
  // clock_gettime(CLOCK_MONOTONIC) in ns.
  static uint64_t mono_ns();

  // Measures ticks per ns over about span_ns (blocks that long) and anchors the map.
  void calibrate(uint64_t span_ns = 20'000'000);
  // Re-anchors the map at a fresh pair; re-measures the slope from the previous anchor when it is
  // at least min_span_ns old (shorter baselines would add noise, not remove drift).
  void refresh(uint64_t min_span_ns = 500'000'000);
  bool calibrated() const { return mult_ != 0; }

  // The TSC value the guest read (or would have read) at CLOCK_MONOTONIC time mono_ns.
  uint64_t to_tsc(uint64_t mono_ns) const;
  double ticks_per_ns() const;
  // When the last anchor was taken (CLOCK_MONOTONIC ns), so callers can pace refresh().
  uint64_t anchor_ns() const { return anchor_ns_; }

 private:
  struct Pair {
    uint64_t tsc = 0, ns = 0;
  };
  // The tightest of a few (rdtsc, clock_gettime, rdtsc) readings, the TSC taken as the midpoint.
  static Pair read_pair();
  void set_slope(const Pair& from, const Pair& to);

  uint64_t anchor_tsc_ = 0, anchor_ns_ = 0;
  uint64_t mult_ = 0;  // ticks per ns, 32.32 fixed point
};

}  // namespace vtrace::guest
