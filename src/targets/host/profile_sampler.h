// profile:::profile-N on the host: every CPU sampled N times a second (or once per period), in
// the context of what the sample interrupted, as DTrace's profile-N (no BPF).
// One software cpu-clock perf event per (profile-N probe, CPU) with pid = -1, its sample_period
// the probe's period in ns; all of a CPU's events write into one ring of their own (the
// tracepoints' rings have another sample_type), told apart by PERF_SAMPLE_IDENTIFIER. A sample
// carries pid/tid/cpu/time (CLOCK_MONOTONIC, so it merges with the tracepoint records) and its
// IP and its callchain (kernel and user return addresses, frame-pointer walks by the kernel) for
// stack() and ustack(). As DTrace's profile provider:
//   arg0 = the kernel PC when the CPU was in the kernel, else 0;
//   arg1 = the user PC when it was in user mode, else 0.
// KernelProbes reads these rings with its own and turns each sample into a record.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "sys/perf_ring.h"

namespace vtrace::targets::host {

class ProfileSampler {
 public:
  // One sample of an enabled profile-N probe.
  struct Sample {
    uint32_t probe;
    uint64_t time;  // CLOCK_MONOTONIC ns
    uint32_t cpu;
    int32_t pid, tid;             // the interrupted task
    uint64_t kernel_pc, user_pc;  // arg0, arg1
    // The callchain split at the kernel's context markers (valid during the read() callback).
    std::vector<uint64_t>* kstack = nullptr;
    std::vector<uint64_t>* ustack = nullptr;
  };
  // A profile-N probe to sample: its catalog id and period in ns.
  struct Probe {
    uint32_t id;
    uint64_t period_ns;
    std::string name;  // "profile-997", for messages
  };

  // The sample of `probe` a decoded perf sample makes (arg0/arg1 as above).
  static Sample decode(const sys::SampleView& s, uint32_t probe);
  // The perf_event_attr of a profile-N probe's per-CPU event (disabled until enable()).
  static perf_event_attr attr(uint64_t period_ns);

  // Opens one cpu-clock event per (probe, CPU in `cpus`) into one ring of `pages` data pages per
  // CPU. With `side_band`, each ring's first event also reports comm changes and forks (for
  // the execname cache, when no tracepoint ring does). False with a message (cause, fix) on
  // failure: profile-N needs perf events that sample every CPU (root, or perf_event_paranoid
  // <= 0); there is no fallback that would sample only the tracer.
  bool open(const std::vector<Probe>& probes, const std::vector<uint32_t>& cpus, size_t pages,
            bool side_band, std::string& err);
  // PERF_EVENT_IOC_ENABLE on every event; 0 or an errno.
  int enable();
  void disable();
  void close();
  bool active() const { return !rings_.empty(); }

  // Reads ring `c` (index into the `cpus` given to open()): each sample of a known event goes to
  // on_sample; every other record (COMM, FORK, ...) to on_other(type, body, len). At most
  // `max_records` records; returns how many were consumed.
  size_t read(size_t c, const std::function<void(const Sample&)>& on_sample,
              const std::function<void(uint32_t, const uint8_t*, size_t)>& on_other,
              size_t max_records);

  size_t rings() const { return rings_.size(); }
  uint32_t cpu_of(size_t c) const { return cpus_[c]; }
  const sys::RingStats& stats(size_t c) const { return rings_[c].stats(); }
  uint64_t lost() const;
  // Samples whose record could not be decoded or whose event is unknown.
  uint64_t malformed() const { return malformed_; }

 private:
  std::vector<uint32_t> cpus_;
  std::vector<sys::PerfRing> rings_;              // one per CPU
  std::vector<sys::PerfRing> events_;             // events writing into rings_
  std::unordered_map<uint64_t, uint32_t> by_id_;  // perf sample id -> probe id
  uint64_t malformed_ = 0;
  std::vector<uint64_t> kstack_, ustack_;  // the sample being delivered
};

}  // namespace vtrace::targets::host
