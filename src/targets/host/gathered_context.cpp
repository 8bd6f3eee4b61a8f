#include "targets/host/gathered_context.h"

#include <algorithm>
#include <cstring>

namespace vtrace::targets::host {

namespace {

// The frames the probe gathered, without the trailing zeros where the unwind ended.
GatheredStack frames_of(const bpf::GatherFrames& f, int32_t len, std::vector<uint64_t>& buf) {
  buf.resize(f.size());
  for (size_t i = 0; i < f.size(); ++i) buf[i] = f[i];
  while (!buf.empty() && buf.back() == 0) buf.pop_back();
  return gathered(buf, len < 0 ? len : 0);
}

}  // namespace

GatheredStack gathered(const std::vector<uint64_t>& frames, int32_t error) {
  static const uint64_t kNone = 0;
  if (error < 0) return GatheredStack{&kNone, error};
  return GatheredStack{frames.empty() ? &kNone : frames.data(),
                       static_cast<int32_t>(frames.size())};
}

void GatheredContext::fill(Record& rec, const bpf::GatherView& v, bool kernel_stack,
                           bool user_stack) {
  const bpf::GatherHeader& h = v.header;
  rec.pid = static_cast<int32_t>(h.pid);
  rec.tid = static_cast<int32_t>(h.tid);
  rec.cpu = static_cast<int32_t>(h.cpu);
  rec.timestamp = rec.raw_timestamp = h.time;
  const size_t n = strnlen(h.comm, std::min(sizeof h.comm, size_t{kExecnameLen - 1}));
  std::memcpy(rec.execname, h.comm, n);
  rec.execname[n] = '\0';
  rec.context = true;
  rec.uid = h.uid;
  rec.gid = h.gid;
  rec.ppid = static_cast<int32_t>(h.ppid);
  rec.vtime = h.vtime;
  copies_.resize(v.strings.size());
  for (size_t i = 0; i < v.strings.size(); ++i) {
    const bpf::GatherStringView& g = v.strings[i];
    // A read that returned nothing (a zero length) is the empty string; a fault stays one.
    copies_[i] = CopiedString{g.addr, g.max, g.faulted() ? -1 : static_cast<int32_t>(g.str.size()),
                              g.str.data(), g.bytes};
  }
  rec.copies = copies_.data();
  rec.ncopies = static_cast<uint32_t>(copies_.size());
  if (kernel_stack) rec.kstack = frames_of(v.kstack, h.kstack_len, kframes_);
  if (user_stack) rec.ustack = frames_of(v.ustack, h.ustack_len, uframes_);
}

void GatheredContext::set_stacks(Record& rec, const uint64_t* kernel, size_t nk,
                                 const uint64_t* user, size_t nu) {
  kframes_.assign(kernel, kernel + nk);
  uframes_.assign(user, user + nu);
  rec.kstack = gathered(kframes_, 0);
  rec.ustack = gathered(uframes_, 0);
}

}  // namespace vtrace::targets::host
