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
    case Reject::BadStackLength:
      return "bad stack length";
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
  if (!valid_frame(rec, pos, counts)) return false;
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
  return read_ring<vtrace_record>(ring_, nslots_, tail_, *counts_, max,
                                  [&](const vtrace_record& rec, uint64_t pos) {
                                    RingRecord r;
                                    if (!validate(rec, pos, *probes_, *counts_, r.probe)) return;
                                    r.rec = rec;
                                    for (uint32_t i = r.rec.nargs; i < VTRACE_MAX_ARGS; ++i)
                                      r.rec.args[i] = 0;
                                    r.pos = pos;
                                    out.push_back(r);
                                  });
}

}  // namespace vtrace::transport
