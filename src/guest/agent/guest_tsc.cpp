#include "guest/agent/guest_tsc.h"

#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace vtrace::guest {

namespace {

uint64_t clock_ns(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

constexpr int kPairTries = 7;

}  // namespace

uint64_t GuestTsc::read_tsc() {
#if defined(__x86_64__) || defined(__i386__)
  return __rdtsc();
#else
  return clock_ns(CLOCK_MONOTONIC_RAW);
#endif
}

uint64_t GuestTsc::mono_ns() {
  return clock_ns(CLOCK_MONOTONIC);
}

GuestTsc::Pair GuestTsc::read_pair() {
  // An interrupt or a slow clocksource (a syscall plus HPET under TCG) widens the window between
  // the two rdtsc: keep the narrowest one.
  Pair best;
  uint64_t best_width = UINT64_MAX;
  for (int i = 0; i < kPairTries; ++i) {
    uint64_t t1 = read_tsc();
    uint64_t ns = mono_ns();
    uint64_t t2 = read_tsc();
    if (t2 < t1) continue;
    if (t2 - t1 < best_width) {
      best_width = t2 - t1;
      best = {t1 + (t2 - t1) / 2, ns};
    }
  }
  if (best_width == UINT64_MAX) best = {read_tsc(), mono_ns()};
  return best;
}

void GuestTsc::set_slope(const Pair& from, const Pair& to) {
  if (to.ns <= from.ns || to.tsc <= from.tsc) return;  // keep the old slope
  const unsigned __int128 dt = to.tsc - from.tsc;
  const uint64_t m = static_cast<uint64_t>((dt << 32) / (to.ns - from.ns));
  if (m != 0) mult_ = m;
}

void GuestTsc::calibrate(uint64_t span_ns) {
  const Pair a = read_pair();
  timespec req{static_cast<time_t>(span_ns / 1'000'000'000ull),
               static_cast<long>(span_ns % 1'000'000'000ull)};
  while (clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &req) != 0) {
  }
  const Pair b = read_pair();
  mult_ = 1ull << 32;  // 1 tick per ns until measured (a clock that did not move)
  set_slope(a, b);
  anchor_tsc_ = b.tsc;
  anchor_ns_ = b.ns;
}

void GuestTsc::refresh(uint64_t min_span_ns) {
  if (!calibrated()) {
    calibrate();
    return;
  }
  const Pair now = read_pair();
  if (now.ns < anchor_ns_ + min_span_ns) return;
  set_slope({anchor_tsc_, anchor_ns_}, now);
  anchor_tsc_ = now.tsc;
  anchor_ns_ = now.ns;
}

uint64_t GuestTsc::to_tsc(uint64_t mono_ns) const {
  const __int128 d = static_cast<__int128>(mono_ns) - static_cast<__int128>(anchor_ns_);
  const __int128 ticks = (d * static_cast<__int128>(mult_)) >> 32;  // floor, also for d < 0
  const __int128 t = static_cast<__int128>(anchor_tsc_) + ticks;
  return t < 0 ? 0 : static_cast<uint64_t>(t);
}

double GuestTsc::ticks_per_ns() const {
  return static_cast<double>(mult_) / 4294967296.0;
}

}  // namespace vtrace::guest
