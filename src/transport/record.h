// The record a probe site sends, as the engine consumes it. Every target (the host's built-in
// providers today; host processes, guests and host tracepoints later) delivers these.
#pragma once
#include <cstdint>

namespace vtrace {

inline constexpr int kRecordArgs = 10;
inline constexpr int kExecnameLen = 16;  // as Linux TASK_COMM_LEN

struct Record {
  uint32_t probe = 0;   // catalog probe id
  uint32_t target = 0;  // catalog target index; 0 = the host
  int32_t pid = 0;
  int32_t tid = 0;
  int32_t cpu = 0;             // host CPU, or the vCPU for a guest
  uint64_t timestamp = 0;      // host timebase: CLOCK_MONOTONIC ns (translated for guests)
  uint64_t raw_timestamp = 0;  // the target's own clock
  int64_t args[kRecordArgs] = {};
  char execname[kExecnameLen] = {};  // always NUL-terminated (validated by the transport)
};

}  // namespace vtrace
