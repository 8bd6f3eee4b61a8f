// The host timebase: CLOCK_MONOTONIC in ns, which every record's timestamp is translated to.
#pragma once
#include <time.h>

#include <cstdint>

namespace vtrace::clock {

inline uint64_t read_ns(clockid_t id) {
  timespec ts;
  clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

inline uint64_t host_now_ns() {
  return read_ns(CLOCK_MONOTONIC);
}
inline uint64_t wall_now_ns() {
  return read_ns(CLOCK_REALTIME);
}

}  // namespace vtrace::clock
