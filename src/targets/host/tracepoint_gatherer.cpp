#include "targets/host/tracepoint_gatherer.h"

#include <unistd.h>

#include <algorithm>
#include <thread>

#include "bpf/attach.h"
#include "bpf/gather_layout.h"
#include "bpf/gather_program.h"
#include "bpf/kernel_layout.h"

namespace vtrace::targets::host {

bool TracepointGatherer::open(std::vector<Source> sources, uint64_t bufsize, std::string& err) {
  if (geteuid() != 0) {
    err = "host: kernel probes run BPF programs, which needs root (CAP_BPF and CAP_PERFMON)";
    return false;
  }
  std::string why;
  auto layout = bpf::read_kernel_layout(why);
  if (!layout) {
    err = "host: kernel probes need the kernel's BTF: " + why;
    return false;
  }
  auto ring = bpf::GatherRing::create(bufsize, why);
  if (!ring) {
    err = "host: " + why;
    return false;
  }
  sources_ = std::move(sources);
  ring_ = std::move(ring);
  auto fail = [&](const std::string& why) {
    err = "host: " + why;
    detach();
    progs_.clear();
    ring_.reset();
    return false;
  };
  for (size_t i = 0; i < sources_.size(); ++i) {
    Source& s = sources_[i];
    s.plan.probe = static_cast<uint32_t>(i);
    if (s.syscall) continue;
    const std::string what = s.format->system + ":" + s.format->name;
    sys::UniqueFd prog =
        bpf::load_gather_program(s.plan, *layout, ring_->ring_fd(), ring_->drops_fd(), what, why);
    if (!prog.valid()) return fail(why);
    sys::UniqueFd link = bpf::attach_tracepoint(prog.get(), s.format->id, what, why);
    if (!link.valid()) return fail(why);
    progs_.push_back(std::move(prog));
    links_.push_back(std::move(link));
  }
  if (!open_syscalls(*layout, why)) return fail(why);
  return true;
}

bool TracepointGatherer::open_syscalls(const bpf::KernelLayout& layout, std::string& err) {
  // One program per side and plan (but its probe): most syscalls share a handful of programs.
  struct Shared {
    bpf::SyscallSide side;
    bpf::GatherPlan plan;
    int fd;
  };
  std::vector<Shared> shared;
  for (size_t i = 0; i < sources_.size(); ++i) {
    const Source& s = sources_[i];
    if (!s.syscall) continue;
    auto& d = dispatch_[*s.syscall == bpf::SyscallSide::Enter ? 0 : 1];
    if (!d && !(d = bpf::SyscallDispatch::create(*s.syscall, layout, err))) return false;
    bpf::GatherPlan plan = s.plan;
    plan.probe = 0;
    auto it = std::find_if(shared.begin(), shared.end(),
                           [&](const Shared& x) { return x.side == *s.syscall && x.plan == plan; });
    if (it == shared.end()) {
      const std::string what = s.format->system + ":" + s.format->name + " (through raw " +
                               bpf::raw_tracepoint_of(*s.syscall) + ")";
      sys::UniqueFd prog =
          bpf::load_gather_program(plan, layout, ring_->ring_fd(), ring_->drops_fd(), what, err,
                                   bpf::GatherSource::of_syscall(*s.syscall, d->sources_fd()));
      if (!prog.valid()) return false;
      shared.push_back({*s.syscall, plan, prog.get()});
      progs_.push_back(std::move(prog));
      it = shared.end() - 1;
    }
    if (!d->route(s.nr, it->fd, static_cast<uint32_t>(i), err)) return false;
  }
  for (auto& d : dispatch_)
    if (d && d->routed() && !d->attach(err)) return false;
  return true;
}

void TracepointGatherer::detach() {
  // Closing a tracepoint's perf event waits for an RCU grace period (~80 ms here): close them
  // from several threads, so that the waits overlap instead of adding up.
  constexpr size_t kClosers = 16;
  std::vector<std::thread> closers;
  const size_t n = links_.size();
  for (size_t t = 0; t < kClosers && t < n; ++t)
    closers.emplace_back([this, t, n] {
      for (size_t i = t; i < n; i += kClosers) links_[i].reset();
    });
  for (std::thread& c : closers) c.join();
  links_.clear();
  for (auto& d : dispatch_)
    if (d) d->detach();
}

size_t TracepointGatherer::read(const RecordFn& fn) {
  if (!ring_) return 0;
  std::string err;
  long n = ring_->consume(
      [&](const uint8_t* bytes, size_t len) {
        bpf::GatherHeader h;
        if (len < sizeof h) {
          ++malformed_;
          return;
        }
        std::memcpy(&h, bytes, sizeof h);
        if (h.probe >= sources_.size()) {
          ++malformed_;
          return;
        }
        fn(h.probe, bytes, len);
      },
      err);
  return n > 0 ? static_cast<size_t>(n) : 0;
}

bool TracepointGatherer::parse(uint32_t source, const uint8_t* bytes, size_t len,
                               bpf::GatherView& out) const {
  return source < sources_.size() &&
         bpf::parse_gather_record(bytes, len, sources_[source].plan, out);
}

std::vector<uint64_t> TracepointGatherer::drops() const {
  if (!ring_) return {};
  std::string err;
  return ring_->drops(err);
}

}  // namespace vtrace::targets::host
