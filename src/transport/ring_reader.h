// Reading one ring of a channel. The producer (a traced process, later a guest) is untrusted:
// the reader copies each record out of shared memory before looking at it, validates every
// field of the copy, and counts what it rejects by reason. A bad head index resynchronizes the
// ring instead of being followed.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "vtrace/channel_abi.h"
#include "vtrace/guest_abi.h"

namespace vtrace::transport {

enum class Reject : uint8_t {
  CorruptRing,      // head moved backwards or more than nslots ahead of tail
  BadProbeId,       // the probe offset names no known descriptor
  BadArgCount,      // nargs > VTRACE_MAX_ARGS
  BadStringLength,  // tail_len too large, or the copied string not NUL-terminated within it
  BadSequence,      // seq != the ring position it was read at
  BadStackLength,   // a guest record's frames beyond its room, or on a probe without stacks
  Count_
};

const char* reject_name(Reject r);  // "bad probe id", ...

struct RejectCounts {
  uint64_t n[static_cast<size_t>(Reject::Count_)] = {};
  void add(Reject r) { ++n[static_cast<size_t>(r)]; }
  uint64_t get(Reject r) const { return n[static_cast<size_t>(r)]; }
  uint64_t total() const;
  // "3 records rejected (2 bad probe id, 1 bad string length)"; "" when none.
  std::string summary() const;
};

// What the reader knows of a probe site: its catalog id and descriptor flags.
struct ProbeRef {
  uint32_t probe = 0;  // catalog probe id
  uint16_t flags = 0;  // VTRACE_DESC_*
  uint16_t nargs = 0;  // from the validated descriptor
};
// Descriptor offset in the probe section -> probe (sites only; guards never fire).
using ProbeMap = std::unordered_map<uint32_t, ProbeRef>;

// One validated record, copied out of the ring.
struct RingRecord {
  vtrace_record rec;
  uint64_t pos = 0;  // ring position
  ProbeRef probe;
};

// The checks every record gets whatever its layout (process or guest record): its sequence
// number is its ring position, its argument count fits, and its string tail lies within the
// tail and ends in a NUL. A failed check is counted by reason.
template <typename Rec>
bool valid_frame(const Rec& r, uint64_t pos, RejectCounts& counts) {
  if (r.seq != pos) {
    counts.add(Reject::BadSequence);
    return false;
  }
  if (r.nargs > VTRACE_MAX_ARGS) {
    counts.add(Reject::BadArgCount);
    return false;
  }
  if (r.tail_len > sizeof r.tail ||
      (r.tail_len > 0 && std::memchr(r.tail, '\0', r.tail_len) == nullptr)) {
    counts.add(Reject::BadStringLength);
    return false;
  }
  return true;
}

// Bytes of a record's tail in use (what a writer copies into a slot and a reader out of it):
// its string, or a guest record's stack frames.
inline size_t tail_bytes(const vtrace_record& r) {
  return std::min<size_t>(r.tail_len, sizeof r.tail);
}
inline size_t tail_bytes(const vtrace_guest_record& r) {
  const size_t k = r.kstack_len == VTRACE_GUEST_NO_KSTACK ? 0 : r.kstack_len;
  const size_t frames = (k + r.ustack_len) * 8;
  return std::min<size_t>(std::max<size_t>(r.tail_len, frames), sizeof r.tail);
}

// Reads the records published in `ring` since `tail` (the host's own consumer index), up to
// `max`: each is copied out of shared memory first (the string tail only as far as the record
// says it is used, bounded by its size), then `accept(copy, pos)` validates the copy. Advances
// tail and the ring's tail. A head no correct producer can write (backwards, or more than
// nslots ahead) is counted and skipped to, never followed. Returns the positions consumed.
template <typename Rec, typename Accept>
size_t read_ring(vtrace_ring* ring, uint32_t nslots, uint64_t& tail, RejectCounts& counts,
                 size_t max, Accept&& accept) {
  const uint64_t head = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);
  if (head == tail) return 0;
  if (head < tail || head - tail > nslots) {
    counts.add(Reject::CorruptRing);
    tail = head;
    __atomic_store_n(&ring->tail, tail, __ATOMIC_RELEASE);
    return 0;
  }
  const uint64_t mask = nslots - 1;
  auto* slots = reinterpret_cast<const char*>(ring) + sizeof(vtrace_ring);
  size_t consumed = 0;
  Rec copy;
  while (tail != head && consumed < max) {
    const char* slot = slots + (tail & mask) * VTRACE_RECORD_SIZE;
    std::memcpy(&copy, slot, offsetof(Rec, tail));
    const size_t used = tail_bytes(copy);
    if (used > 0) std::memcpy(copy.tail, slot + offsetof(Rec, tail), used);
    accept(copy, tail);
    ++tail;
    ++consumed;
  }
  __atomic_store_n(&ring->tail, tail, __ATOMIC_RELEASE);
  return consumed;
}

class RingReader {
 public:
  // `ring` points at a ring header followed by `nslots` slots (nslots a power of two, the
  // host's own value, never re-read from shared memory).
  RingReader(vtrace_ring* ring, uint32_t nslots, const ProbeMap* probes, RejectCounts* counts)
      : ring_(ring), nslots_(nslots), probes_(probes), counts_(counts) {}

  // Copies and validates up to `max` records published since the last call; valid ones are
  // appended to `out`, invalid ones counted. Advances the ring's tail past what it read.
  // Returns how many positions it consumed (valid or not).
  size_t poll(std::vector<RingRecord>& out, size_t max);

  // As poll(), without collecting: calls `fn(copy, pos, ref)` for each valid record (the copy
  // lives on the stack and its args past nargs are not zeroed). For relays that convert each
  // record straight into a record of their own.
  template <typename Fn>
  size_t poll_each(size_t max, Fn&& fn) {
    return read_ring<vtrace_record>(ring_, nslots_, tail_, *counts_, max,
                                    [&](const vtrace_record& rec, uint64_t pos) {
                                      ProbeRef ref;
                                      if (validate(rec, pos, *probes_, *counts_, ref))
                                        fn(rec, pos, ref);
                                    });
  }

  // Validates one record copied out of the ring (public for tests and the fuzzer).
  static bool validate(const vtrace_record& rec, uint64_t pos, const ProbeMap& probes,
                       RejectCounts& counts, ProbeRef& ref);

  // Producer-side drop count (untrusted: reported, never used as an index).
  uint64_t drops() const { return __atomic_load_n(&ring_->drops, __ATOMIC_RELAXED); }
  uint64_t tail() const { return tail_; }

 private:
  vtrace_ring* ring_;
  uint32_t nslots_;
  const ProbeMap* probes_;
  RejectCounts* counts_;
  uint64_t tail_ = 0;  // the host's own copy of the consumer index
};

}  // namespace vtrace::transport
