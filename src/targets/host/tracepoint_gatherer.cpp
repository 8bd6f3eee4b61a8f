#include "targets/host/tracepoint_gatherer.h"

#include <unistd.h>

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
  for (size_t i = 0; i < sources.size(); ++i) {
    Source& s = sources[i];
    s.plan.probe = static_cast<uint32_t>(i);
    const std::string what = s.format->system + ":" + s.format->name;
    sys::UniqueFd prog =
        bpf::load_gather_program(s.plan, *layout, ring->ring_fd(), ring->drops_fd(), what, why);
    if (!prog.valid()) {
      err = "host: " + why;
      links_.clear();
      return false;
    }
    sys::UniqueFd link = bpf::attach_tracepoint(prog.get(), s.format->id, what, why);
    if (!link.valid()) {
      err = "host: " + why;
      links_.clear();
      return false;
    }
    progs_.push_back(std::move(prog));
    links_.push_back(std::move(link));
  }
  sources_ = std::move(sources);
  ring_ = std::move(ring);
  return true;
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
