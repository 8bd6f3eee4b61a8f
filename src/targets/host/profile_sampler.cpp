#include "targets/host/profile_sampler.h"

#if defined(__x86_64__) || defined(__i386__)
#include <asm/perf_regs.h>
#endif

#include <cstring>
#include <ctime>

namespace vtrace::targets::host {

namespace {

constexpr uint64_t kSampleType = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_IP | PERF_SAMPLE_TID |
                                 PERF_SAMPLE_TIME | PERF_SAMPLE_CPU | PERF_SAMPLE_CALLCHAIN;
constexpr uint16_t kMaxFrames = 127;  // the kernel's default perf_event_max_stack

// Kernel addresses are in the upper half of the address space (x86-64, arm64).
bool kernel_address(uint64_t ip) {
  return static_cast<int64_t>(ip) < 0;
}

}  // namespace

perf_event_attr ProfileSampler::attr(uint64_t period_ns) {
  perf_event_attr a;
  std::memset(&a, 0, sizeof(a));
  a.size = sizeof(a);
  a.type = PERF_TYPE_SOFTWARE;
  a.config = PERF_COUNT_SW_CPU_CLOCK;
  a.sample_period = period_ns;  // cpu-clock counts ns: one sample per period, exactly
  a.sample_type = kSampleType;
  a.sample_max_stack = kMaxFrames;
  a.disabled = 1;
  a.use_clockid = 1;
  a.clockid = CLOCK_MONOTONIC;
  a.wakeup_events = 0;  // the reader polls: no wakeup per sample
  a.watermark = 1;
  a.wakeup_watermark = 1u << 30;
  return a;
}

ProfileSampler::Sample ProfileSampler::decode(const sys::SampleView& s, uint32_t probe) {
  Sample out{probe, s.time, s.cpu, static_cast<int32_t>(s.pid), static_cast<int32_t>(s.tid), 0, 0};
  // DTrace's profile arguments: exactly one of them is the PC, the other 0 (scripts test
  // `/arg0/` for kernel samples and `/arg1/` for user ones).
  if (kernel_address(s.ip))
    out.kernel_pc = s.ip;
  else
    out.user_pc = s.ip;
  return out;
}

bool ProfileSampler::open(const std::vector<Probe>& probes, const std::vector<uint32_t>& cpus,
                          size_t pages, bool side_band, std::string& err) {
  close();
  if (probes.empty()) return true;
  for (uint32_t cpu : cpus) {
    for (size_t i = 0; i < probes.size(); ++i) {
      perf_event_attr a = attr(probes[i].period_ns);
      if (i == 0 && side_band) sys::want_task_records(a);
      sys::PerfRing ev;
      int e = sys::open_cpu_event(ev, a, cpu, i == 0 ? pages : 0);
      const std::string what = "host: " + probes[i].name +
                               " samples every CPU and needs perf events: perf_event_open of "
                               "cpu-clock on cpu " +
                               std::to_string(cpu);
      if (e == 0 && i > 0) e = ev.redirect_to(rings_.back());
      uint64_t sid = 0;
      if (e == 0) e = ev.event_id(sid);
      if (e != 0) {
        err = sys::perf_error_message(e, what);
        close();
        return false;
      }
      by_id_[sid] = probes[i].id;
      if (i == 0)
        rings_.push_back(std::move(ev));
      else
        events_.push_back(std::move(ev));
    }
    cpus_.push_back(cpu);
  }
  return true;
}

int ProfileSampler::enable() {
  for (auto* set : {&rings_, &events_})
    for (auto& ev : *set)
      if (int e = ev.enable(); e != 0) return e;
  return 0;
}

void ProfileSampler::disable() {
  for (auto* set : {&rings_, &events_})
    for (auto& ev : *set) ev.disable();
}

void ProfileSampler::close() {
  events_.clear();
  rings_.clear();
  cpus_.clear();
  by_id_.clear();
}

size_t ProfileSampler::read(size_t c, const std::function<void(const Sample&)>& on_sample,
                            const std::function<void(uint32_t, const uint8_t*, size_t)>& on_other,
                            size_t max_records) {
  if (c >= rings_.size()) return 0;
  const sys::SampleLayout layout{attr(1).sample_type, 0};
  return rings_[c].read_identified(
      layout, by_id_, malformed_,
      [&](const sys::SampleView& s, uint32_t probe) {
        Sample out = decode(s, probe);
        sys::split_callchain(s.callchain, s.callchain_nr, kstack_, ustack_);
        out.kstack = &kstack_;
        out.ustack = &ustack_;
        on_sample(out);
      },
      on_other, max_records);
}

uint64_t ProfileSampler::lost() const {
  uint64_t n = 0;
  for (const auto& r : rings_) n += r.stats().lost;
  return n;
}

}  // namespace vtrace::targets::host
