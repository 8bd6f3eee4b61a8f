// The agent's side of the guest channel's rings: it is the single producer of each. Records are
// written at the agent's own position (never re-read from shared memory), published with a
// release store of head, and in sync mode the agent waits (spinning: no futex crosses the VM)
// until the host's `done` passes them.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>

#include "vtrace/guest_abi.h"

namespace vtrace::guest {

class NativeProcess;

// One record of a relay round, before it is written into a guest ring.
struct RelayRecord {
  vtrace_guest_record rec;
  NativeProcess* proc = nullptr;  // native records: the process and its ring position
  uint32_t ring = 0;
  uint64_t pos = 0;
};

// Copies a string into rec.tail, cut to VTRACE_GUEST_TAIL_SIZE - 1 bytes ending in "..." when
// longer; sets tail_len (bytes incl. the NUL).
void set_tail(vtrace_guest_record& rec, const char* s, size_t len);

class GuestRingWriter {
 public:
  void attach(vtrace_ring* ring, uint32_t nslots);
  // A new host session: the host zeroed the ring header, positions start over.
  void reset();
  // Writes `rec` (seq = its position) and publishes it. False when the ring is full.
  bool write(vtrace_guest_record& rec, uint64_t& pos);
  uint64_t pos() const { return pos_; }
  vtrace_ring* ring() const { return ring_; }

 private:
  vtrace_ring* ring_ = nullptr;
  uint32_t nslots_ = 0;
  uint64_t pos_ = 0;
};

// Sync mode: waits until the host's done passes `pos` of `ring`. Gives up (false) when the host
// detaches, starts another session or its heartbeat stalls for ~1 s. `tick` runs every ~50 ms
// while waiting (the agent keeps its process channels' heartbeats going).
bool wait_host_done(const vtrace_guest_header* h, const vtrace_ring* ring, uint64_t pos,
                    const std::function<void()>& tick);

}  // namespace vtrace::guest
