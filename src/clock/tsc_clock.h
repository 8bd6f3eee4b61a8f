// Translation of raw TSC readings (what probe sites in host processes stamp records with: one
// rdtsc is ~8 ns against ~20 ns for clock_gettime) into the host timebase, CLOCK_MONOTONIC ns.
// Linear: an anchor pair (tsc, ns) and a slope measured over the longest baseline seen, refreshed
// by update() (the consumer calls it with each heartbeat), so drift stays at the slope's error
// over the time since the last anchor.
#pragma once
#include <cstdint>

namespace vtrace::clock {

class TscClock {
 public:
  // Whether the TSC is a usable clock here: x86-64, constant and non-stop (cpuinfo flags).
  static bool usable();

  // Anchors now and measures the slope over `calibrate_ns` (a short busy wait).
  void start(uint64_t calibrate_ns = 10'000'000);
  // A new anchor; the slope is re-measured from the first anchor.
  void update();
  // Readings before the anchor translate backwards; any value (a process may write garbage) is
  // clamped to about +-292 years, so the conversion is always defined.
  uint64_t to_ns(uint64_t tsc) const {
    const int64_t dt = static_cast<int64_t>(tsc - anchor_tsc_);
    double v = static_cast<double>(dt) * ns_per_tick_;
    if (v > 9.0e18) v = 9.0e18;
    if (v < -9.0e18) v = -9.0e18;
    return anchor_ns_ + static_cast<uint64_t>(static_cast<int64_t>(v));
  }
  double ns_per_tick() const { return ns_per_tick_; }

  // One paired reading: the TSC taken between two clock reads; returns their midpoint.
  static void read_pair(uint64_t& tsc, uint64_t& ns);

 private:
  uint64_t first_tsc_ = 0, first_ns_ = 0;
  uint64_t anchor_tsc_ = 0, anchor_ns_ = 0;
  double ns_per_tick_ = 1.0;
};

}  // namespace vtrace::clock
