#include "clock/tsc_clock.h"

#include <fstream>
#include <string>

#include "clock/host_clock.h"

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace vtrace::clock {

bool TscClock::usable() {
  // Read once: callers ask on every heartbeat, and the CPU's flags do not change.
  static const bool usable = [] {
#if defined(__x86_64__)
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("flags", 0) != 0) continue;
      return line.find(" constant_tsc") != std::string::npos &&
             line.find(" nonstop_tsc") != std::string::npos;
    }
#endif
    return false;
  }();
  return usable;
}

void TscClock::read_pair(uint64_t& tsc, uint64_t& ns) {
#if defined(__x86_64__)
  // The tightest of a few tries: a preemption between the reads only widens one of them.
  uint64_t best = UINT64_MAX;
  for (int i = 0; i < 5; ++i) {
    uint64_t a = host_now_ns();
    uint64_t t = __rdtsc();
    uint64_t b = host_now_ns();
    if (b - a < best) {
      best = b - a;
      tsc = t;
      ns = a + (b - a) / 2;
    }
  }
#else
  tsc = ns = host_now_ns();
#endif
}

void TscClock::start(uint64_t calibrate_ns) {
  read_pair(first_tsc_, first_ns_);
  anchor_tsc_ = first_tsc_;
  anchor_ns_ = first_ns_;
  uint64_t t, n;
  do {
    read_pair(t, n);
  } while (n - first_ns_ < calibrate_ns);
  if (t != first_tsc_)
    ns_per_tick_ = static_cast<double>(n - first_ns_) / static_cast<double>(t - first_tsc_);
}

void TscClock::update() {
  uint64_t t, n;
  read_pair(t, n);
  if (t > first_tsc_)
    ns_per_tick_ = static_cast<double>(n - first_ns_) / static_cast<double>(t - first_tsc_);
  anchor_tsc_ = t;
  anchor_ns_ = n;
}

}  // namespace vtrace::clock
