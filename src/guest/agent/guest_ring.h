// The agent's side of the guest channel's rings: it is the single producer of each. Records are
// written at the agent's own position (never re-read from shared memory), published with a
// release store of head, and in sync mode the agent waits (spinning: no futex crosses the VM)
// until the host's `done` passes them.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

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

// Where a relay round puts the records it reads: next() is the record to fill (nullptr when
// there is no room: the record is dropped and counted), commit() keeps what was filled there.
class RecordSink {
 public:
  virtual vtrace_guest_record* next() = 0;
  // `proc`, `ring`, `pos`: where a native record came from (sync mode marks it done).
  virtual void commit(NativeProcess* proc, uint32_t ring, uint64_t pos) = 0;

 protected:
  ~RecordSink() = default;
};

// Copies a string into rec.tail, cut to VTRACE_GUEST_TAIL_SIZE - 1 bytes ending in "..." when
// longer; sets tail_len (bytes incl. the NUL).
void set_tail(vtrace_guest_record& rec, const char* s, size_t len);
// Copies kernel then user frames into rec.tail, the kernel's first when they do not all fit
// (VTRACE_GUEST_MAX_FRAMES); sets kstack_len and ustack_len.
void set_stacks(vtrace_guest_record& rec, const std::vector<uint64_t>& kernel,
                const std::vector<uint64_t>& user);

class GuestRingWriter {
 public:
  void attach(vtrace_ring* ring, uint32_t nslots);
  // A new host session: the host zeroed the ring header, positions start over.
  void reset();
  // Writes `rec` (seq = its position) and publishes it. False when the ring is full.
  bool write(vtrace_guest_record& rec, uint64_t& pos);
  uint64_t pos() const { return pos_; }
  vtrace_ring* ring() const { return ring_; }

  // Direct writes: how many positions from pos() the host has room for (re-reads its tail),
  // and the slot of position pos() + k (k below room()). Nothing is visible to the host before
  // publish().
  uint64_t room();
  vtrace_guest_record* taken(uint64_t k) const;
  // Publishes positions [pos(), pos() + n), written through slot() (seq set by the caller).
  void publish(uint64_t n);

 private:
  vtrace_ring* ring_ = nullptr;
  uint32_t nslots_ = 0;
  uint64_t pos_ = 0;
};

// One round's records for one guest ring, written straight into its slots (no copy in
// between) and published together by finish(), in timestamp order: records read from a single
// process ring come in order and are left where they are; otherwise finish() sorts them.
// Reused across rounds: only a round that needs sorting touches it.
struct SortScratch {
  std::vector<vtrace_guest_record> recs;
  std::vector<std::pair<uint64_t, uint32_t>> keys;  // timestamp, index
};

class RoundWriter final : public RecordSink {
 public:
  RoundWriter(GuestRingWriter& w, SortScratch& scratch) : w_(w), scratch_(scratch) {}
  vtrace_guest_record* next() override;
  void commit(NativeProcess* proc, uint32_t ring, uint64_t pos) override;
  // Orders (when needed) and publishes what was committed; returns the records published.
  size_t finish();
  uint64_t drops() const { return drops_; }

 private:
  GuestRingWriter& w_;
  SortScratch& scratch_;
  vtrace_guest_record* cur_ = nullptr;
  uint64_t n_ = 0;
  uint64_t room_ = 0;  // room() as last read: re-read only when n_ reaches it
  uint64_t last_ts_ = 0;
  bool sorted_ = true;
  uint64_t drops_ = 0;
};

// Sync mode: records kept in a vector (each is written, then waited for, one at a time).
class StagedRound final : public RecordSink {
 public:
  explicit StagedRound(std::vector<RelayRecord>& recs) : recs_(recs) {}
  vtrace_guest_record* next() override;
  void commit(NativeProcess* proc, uint32_t ring, uint64_t pos) override;
  // Sorts by timestamp (stable) unless already in order; the records of this round.
  RelayRecord* begin() { return recs_.data(); }
  RelayRecord* end() { return recs_.data() + n_; }
  size_t size() const { return n_; }
  void sort();

 private:
  std::vector<RelayRecord>& recs_;  // grown, never shrunk: no per-round construction
  size_t n_ = 0;
};

// Sync mode: waits until the host's done passes `pos` of `ring`. Gives up (false) when the host
// detaches, starts another session or its heartbeat stalls for ~1 s. `tick` runs every ~50 ms
// while waiting (the agent keeps its process channels' heartbeats going).
bool wait_host_done(const vtrace_guest_header* h, const vtrace_ring* ring, uint64_t pos,
                    const std::function<void()>& tick);

}  // namespace vtrace::guest
