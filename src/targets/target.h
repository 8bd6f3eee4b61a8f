// What every kind of target does for the trace loop (DESIGN.md: one global timeline): the host
// kernel's tracepoints, USDT probes, instrumented host processes, QEMU guests and the profile
// timers are each a Target. The loop polls a list of them through one Timeline (timeline.h),
// which merges their records by host time; it knows no kind by name.
//
// Finding probes still differs by kind (the kernel's and USDT's probes join the catalog on
// demand, a process's when it is named, a guest's when its agent publishes them) and is wired in
// cli::run; enabling goes through enable().
#pragma once
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "bpf/clause_needs.h"
#include "transport/channel.h"
#include "transport/record_sink.h"

namespace vtrace::engine {
class Engine;
}

namespace vtrace::targets {

// The watermark of a ring polled at host time `now_ns` and read empty: everything stamped before
// then was read, but for a record a writer (a BPF program, a probe site) had stamped and not yet
// published at that moment; 1 ms covers such a record.
inline uint64_t settled_before(uint64_t now_ns) {
  constexpr uint64_t kInFlightNs = 1'000'000;
  return now_ns > kInFlightNs ? now_ns - kInFlightNs : 0;
}

// What every target is told when tracing starts.
struct EnableRequest {
  const engine::Engine* engine = nullptr;  // the program (its module, its options)
  std::vector<uint32_t> enabled;           // every enabled probe, ascending
  std::vector<uint32_t> gathered;          // those with clauses that run in vtrace (records wanted)
  std::function<bpf::ClauseNeeds(uint32_t probe)> needs;  // what those clauses read at the probe
  transport::ChannelConfig channel;                       // ring geometry and mode (sync/async)
  uint64_t now_ns = 0;
};

class Target {
 public:
  virtual ~Target() = default;

  // Its name in reports ("host kernel", "usdt", "processes", "guests", "profile").
  virtual const char* name() const = 0;
  // Turns on its probes among `req.enabled`. False with `error` (the cause, and the fix where
  // there is one): the run does not start.
  virtual bool enable(const EnableRequest& req, std::string& error) = 0;
  // Whether it traces anything: an inactive target is not polled and holds nothing back.
  virtual bool active() const = 0;
  // Reads what waits in its buffers into `sink`, each record stamped in host time, and moves
  // its watermark. `now_ns` is the host time taken before the read. Returns how many it read.
  virtual size_t poll(RecordSink& sink, uint64_t now_ns) = 0;
  // The host time before which it will deliver nothing more, as of its last poll.
  virtual uint64_t watermark() const = 0;
  // Whether each poll delivers its records in time order (the timeline then runs a record at
  // once when every other target is past it, without holding a copy).
  virtual bool ordered() const { return true; }
  // A target whose records come from several clocks (the guests: one VM each) has one lane per
  // clock in the merge, each with its own watermark, held back or given up on (stalled) alone,
  // and reported under its own name. Lanes may be added while tracing, never removed.
  virtual size_t lanes() const { return 1; }
  virtual size_t lane_of(const Record& rec) const {
    (void)rec;
    return 0;
  }
  virtual uint64_t lane_watermark(size_t lane) const {
    (void)lane;
    return watermark();
  }
  virtual bool lane_live(size_t lane) const {
    (void)lane;
    return active();
  }
  virtual std::string lane_name(size_t lane) const {
    (void)lane;
    return name();
  }
  // Upkeep, called about every 50 ms: heartbeats, clock measurements, probes that appeared.
  virtual void tick(uint64_t now_ns, engine::Engine& eng) {
    (void)now_ns;
    (void)eng;
  }
  // The host time of its next timer firing (profile ticks), UINT64_MAX when it has none: the
  // loop sleeps no longer.
  virtual uint64_t next_deadline() const { return UINT64_MAX; }
  // In sync mode, how long the loop may sleep while this target's sites may be waiting at a
  // probe (0: spin), UINT64_MAX when none of its sites waits for the host.
  virtual uint64_t sync_poll_ns() const { return UINT64_MAX; }
  // Sleeps up to `ns` on something a filling buffer rings (a process's doorbell); false, at
  // once, when it has nothing to sleep on.
  virtual bool wait(uint64_t ns) {
    (void)ns;
    return false;
  }
  // Tracing ends: its probes go off and what its buffers still hold goes to `sink`.
  virtual void drain(RecordSink& sink) = 0;
  // Its counters at the end (drops, rejects, clock bounds), as lines for stderr.
  virtual void report(std::FILE* err) const = 0;
};

}  // namespace vtrace::targets
