#include "targets/process/target_counter.h"

#include <unistd.h>

namespace vtrace::targets {

namespace {

// Room for the readings' own timing (a reading lands a little after the time it is stamped).
constexpr uint64_t kSlack = 1 << 16;

uint64_t cpus() {
  static const uint64_t n = [] {
    long c = sysconf(_SC_NPROCESSORS_CONF);
    return c > 0 ? static_cast<uint64_t>(c) : uint64_t{1};
  }();
  return n;
}

}  // namespace

uint64_t TargetCounter::max_growth(uint64_t ns) {
  const uint64_t per_cpu = ns / 2;
  const uint64_t n = cpus();
  if (per_cpu > (UINT64_MAX - kSlack) / n) return UINT64_MAX;
  return per_cpu * n + kSlack;
}

bool TargetCounter::update(uint64_t value, uint64_t now_ns) {
  if (bad_) return false;
  const uint64_t elapsed = now_ns > last_ns_ ? now_ns - last_ns_ : 0;
  if (value < value_ || value - value_ > max_growth(elapsed)) {
    bad_ = true;
    return false;
  }
  value_ = value;
  last_ns_ = now_ns;
  return true;
}

}  // namespace vtrace::targets
