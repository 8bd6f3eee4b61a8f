// The probe table the agent publishes in the guest channel: entries are only appended, then
// made visible by storing probe_count and bumping table_gen (release), so the host never reads
// a half-written entry. The caller serializes access (the agent's lock).
#pragma once
#include <cstdint>
#include <string>

#include "vtrace/guest_abi.h"

namespace vtrace::guest {

inline constexpr uint32_t kNoEntry = UINT32_MAX;

class GuestProbeTable {
 public:
  void attach(vtrace_guest_header* h, vtrace_guest_probe* entries, uint32_t max_probes);

  // Writes an entry after the published ones (invisible until publish()). Its index, or
  // kNoEntry when the table is full (agent_error says so).
  uint32_t add(uint32_t kind, int32_t pid, uint16_t nargs, uint16_t flags,
               const std::string& provider, const std::string& module, const std::string& function,
               const std::string& name);
  // Publishes what add() wrote: probe_count, then table_gen + 1. Returns the table_gen the host
  // has to acknowledge (table_seen) to have seen every entry so far.
  uint32_t publish();
  uint32_t count() const { return count_; }
  uint32_t gen() const { return gen_; }

 private:
  vtrace_guest_header* h_ = nullptr;
  vtrace_guest_probe* entries_ = nullptr;
  uint32_t max_ = 0;
  uint32_t count_ = 0;      // entries written (published or not)
  uint32_t published_ = 0;  // probe_count the host sees
  uint32_t gen_ = 0;
  bool full_reported_ = false;
};

}  // namespace vtrace::guest
