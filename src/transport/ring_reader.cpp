#include "transport/ring_reader.h"

#include <algorithm>
#include <cstddef>

#include <cstring>

namespace vtrace::transport {

const char* reject_name(Reject r) {
  switch (r) {
    case Reject::CorruptRing:
      return "corrupt ring";
    case Reject::BadProbeId:
      return "bad probe id";
    case Reject::BadArgCount:
      return "bad argument count";
    case Reject::BadStringLength:
      return "bad string length";
    case Reject::BadSequence:
      return "bad sequence number";
    case Reject::Count_:
      break;
  }
  return "unknown";
}

uint64_t RejectCounts::total() const {
  uint64_t t = 0;
  for (uint64_t v : n) t += v;
  return t;
}

std::string RejectCounts::summary() const {
  uint64_t t = total();
  if (t == 0) return "";
  std::string s = std::to_string(t) + (t == 1 ? " record" : " records") + " rejected (";
  bool first = true;
  for (size_t i = 0; i < static_cast<size_t>(Reject::Count_); ++i) {
    if (n[i] == 0) continue;
    if (!first) s += ", ";
    first = false;
    s += std::to_string(n[i]) + " " + reject_name(static_cast<Reject>(i));
  }
  return s + ")";
}

bool RingReader::validate(const vtrace_record& rec, uint64_t pos, const ProbeMap& probes,
                          RejectCounts& counts, ProbeRef& ref) {
  if (rec.seq != pos) {
    counts.add(Reject::BadSequence);
    return false;
  }
  if (rec.nargs > VTRACE_MAX_ARGS) {
    counts.add(Reject::BadArgCount);
    return false;
  }
  if (rec.tail_len > VTRACE_TAIL_SIZE ||
      (rec.tail_len > 0 && std::memchr(rec.tail, '\0', rec.tail_len) == nullptr)) {
    counts.add(Reject::BadStringLength);
    return false;
  }
  auto it = probes.find(rec.probe);
  if (it == probes.end()) {
    counts.add(Reject::BadProbeId);
    return false;
  }
  // A string probe's record must carry its string.
  if ((it->second.flags & VTRACE_DESC_STR0) != 0 && rec.tail_len == 0) {
    counts.add(Reject::BadStringLength);
    return false;
  }
  ref = it->second;
  return true;
}

size_t RingReader::poll(std::vector<RingRecord>& out, size_t max) {
  const uint64_t head = __atomic_load_n(&ring_->head, __ATOMIC_ACQUIRE);
  if (head == tail_) return 0;
  if (head < tail_ || head - tail_ > nslots_) {
    // The producer wrote a head no correct site can: skip to it rather than follow it.
    counts_->add(Reject::CorruptRing);
    tail_ = head;
    __atomic_store_n(&ring_->tail, tail_, __ATOMIC_RELEASE);
    return 0;
  }
  const uint64_t mask = nslots_ - 1;
  auto* slots = reinterpret_cast<const char*>(ring_) + sizeof(vtrace_ring);
  size_t consumed = 0;
  while (tail_ != head && consumed < max) {
    RingRecord r;
    // Copy first, then validate the copy: the producer may change the slot meanwhile. The
    // string tail is copied only as far as the record says it is used (bounded by its size).
    const char* slot = slots + (tail_ & mask) * VTRACE_RECORD_SIZE;
    std::memcpy(&r.rec, slot, offsetof(vtrace_record, tail));
    const size_t used = std::min<size_t>(r.rec.tail_len, VTRACE_TAIL_SIZE);
    if (used > 0) std::memcpy(r.rec.tail, slot + offsetof(vtrace_record, tail), used);
    r.pos = tail_;
    if (validate(r.rec, tail_, *probes_, *counts_, r.probe)) {
      for (uint32_t i = r.rec.nargs; i < VTRACE_MAX_ARGS; ++i) r.rec.args[i] = 0;
      out.push_back(r);
    }
    ++tail_;
    ++consumed;
  }
  __atomic_store_n(&ring_->tail, tail_, __ATOMIC_RELEASE);
  return consumed;
}

}  // namespace vtrace::transport
