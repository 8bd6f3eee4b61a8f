// The profile provider's probes: profile:::tick-N and profile:::profile-N. Names take DTrace's
// units (ns, us, ms, s, m, h, d, hz; a bare number is hz). Probes are made on demand when a
// description names one; the usual ones are listed by -l.
// tick-N fires on one CPU, in the tracer: the timers here. profile-N fires on every CPU in the
// context it interrupts, so the host kernel target samples it (targets/host/profile_sampler.h):
// arm() never arms a timer for it.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "engine/catalog.h"

namespace vtrace::engine {

class ProfileProvider {
 public:
  explicit ProfileProvider(Catalog& catalog);

  // The period in ns named by "tick-10ms" / "profile-97" (hz), or nothing.
  static std::optional<uint64_t> parse_period(std::string_view probe_name);

  // The sampling period in ns of a host profile-N probe (sampled on every CPU by the host
  // kernel target), or nothing for any other probe (tick-N included).
  static std::optional<uint64_t> sample_period(const ProbeInfo& probe);

  // Starts timers for the enabled tick-N probes among `probe_ids`, first firing one period after
  // `now`.
  void arm(const std::vector<uint32_t>& probe_ids, uint64_t now_ns);
  bool armed() const { return !timers_.empty(); }
  // The earliest deadline (CLOCK_MONOTONIC ns); UINT64_MAX when no timer runs.
  uint64_t next_deadline() const;
  // Appends the probes due at `now_ns` (earliest first) and advances their deadlines.
  void collect_due(uint64_t now_ns, std::vector<uint32_t>& fired);

 private:
  struct Timer {
    uint32_t probe;
    uint64_t period;
    uint64_t next;
  };
  Catalog& catalog_;
  std::vector<Timer> timers_;
};

}  // namespace vtrace::engine
