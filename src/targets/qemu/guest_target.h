// A QEMU guest as a vtrace target: the host side of its guest channel (include/vtrace/
// guest_abi.h). It reads the probe table the guest's agent publishes into the catalog (target =
// the VM's name), writes the enable bytes, reads the guest's rings into Records (guest pid, tid,
// execname, vCPU; the guest TSC translated to host time by a measured or exact GuestClock), and
// marks records done in sync mode. Everything the guest wrote is untrusted: table entries,
// records, counters are validated, and what is rejected is counted and reported.
#pragma once
#include <sys/types.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "clock/guest_clock.h"
#include "clock/pause_correction.h"
#include "clock/tsc_clock.h"
#include "engine/catalog.h"
#include "targets/qemu/qmp_events.h"
#include "transport/guest_channel.h"
#include "transport/record.h"
#include "transport/ring_reader.h"

namespace vtrace::targets::qemu {

// One record read from a guest ring, translated, waiting for its turn in the merge.
struct GuestPending {
  Record rec;
  uint32_t ring = 0;
  uint64_t pos = 0;
  // A VTRACE_GPROBE_STACKS probe's record: its frames are in tail (kernel's, then user's).
  bool stacks = false;
  bool kstack = true;  // false: its probe has no kernel stack (VTRACE_GUEST_NO_KSTACK)
  uint8_t kframes = 0, uframes = 0;
  uint32_t image = 0;  // the process image of the user frames (its agent's number)
  alignas(8) char tail[VTRACE_GUEST_TAIL_SIZE];
};

class GuestTarget {
 public:
  GuestTarget(std::string vm_name, uint32_t index) : name_(std::move(vm_name)), index_(index) {}
  ~GuestTarget();
  GuestTarget(const GuestTarget&) = delete;
  GuestTarget& operator=(const GuestTarget&) = delete;

  // Under KVM (`kvm`), the first clock measurement also tries KVM's exact translation.
  void set_kvm(bool kvm) { kvm_ = kvm; }
  // The VM's QMP event socket (vm_manager.h), read while attached: a pause (STOP ... RESUME)
  // holds the guest's records until its clock translation is measured again after it.
  void set_events_socket(std::string path) { events_path_ = std::move(path); }
  // Paused now (a STOP seen, its translation not re-measured since).
  bool paused() const { return pause_.awaiting(); }
  // Maps the VM's channel file and checks it; waits up to `ready_ms` for the agent (< 0: does
  // not look; see agent_ready()).
  bool open(const std::string& path, int qemu_pid, int ready_ms, std::string& error);
  // The agent has mapped the channel and published its probe table.
  bool agent_ready() const;
  // Takes the tracer's lock on the channel (one tracing session per guest).
  bool lock(std::string& error);
  // Reads table entries the agent added since the last call into the catalog. Returns how many
  // probes were added.
  size_t refresh_table(engine::Catalog& catalog);
  // Asks the agent for probes it makes on request (guest_abi.h: "fbt:MODULE:FUNCTION" globs for
  // the guest kernel's functions, "profile:NAME:PERIOD_NS") and waits up to `timeout_ms` until
  // its table has them (refresh_table() then reads them). False with `why` when it gives none
  // (its kernel cannot, too many `matched`, a full table, an older agent, no answer). The
  // caller holds the tracer's lock (lock()): the request slot is one per guest.
  bool request_probes(const std::string& request, int timeout_ms, uint32_t& matched,
                      std::string& why);
  // Starts a session: resets the rings, sets the mode, attached = 1.
  void attach(bool sync);
  // Writes the enable bytes of every table entry (on when its catalog id is in `enabled`, in
  // ascending order as Engine::enabled_probes() gives them), with what `wants` says its clauses
  // need read when it fires (VTRACE_GEN_STACKS, VTRACE_GEN_STR(N); none when empty).
  void enable(const std::vector<uint32_t>& enabled,
              const std::function<uint8_t(uint32_t)>& wants = {});
  // Whether the agent has applied the last enable() (its probes are live).
  bool enable_acked() const;
  // Waits until enable_acked(). False on timeout.
  bool wait_enabled(int timeout_ms);
  // Measures the clock translation with a burst of pings (the agent answers them). False with
  // `error` when the agent does not answer.
  bool measure_clock(std::string& error);
  // The first measurement: two bursts `gap_ms` apart (the translation needs two anchors).
  bool calibrate_clock(int gap_ms, std::string& error);
  // Reads up to `max` records of each ring into `out` (appended). In async mode a record
  // stamped after the last check of the clock translation (verified_tsc_) waits in the target
  // until a check covers it (a step of the guest's clock found meanwhile moves it).
  size_t poll(std::vector<GuestPending>& out, size_t max);
  // Tracing ends: records still waiting for a check go out, translated as the clock is now.
  void flush_waiting(std::vector<GuestPending>& out);
  // Sync mode: the engine is done with the record at `pos` of `ring`.
  void mark_done(uint32_t ring, uint64_t pos);
  void heartbeat();
  // How long the agent's heartbeat (every ~50 ms while it runs) has not moved, as of now_ns
  // (measured from the first call or the attach).
  uint64_t agent_silent_ns(uint64_t now_ns);
  // False once the VM's QEMU process is gone or its agent stopped beating for 3 s.
  bool check_alive(uint64_t now_ns);
  // Host time before which the guest had written every record when poll() last read its rings
  // (its watermark, read before the rings, less the clock's uncertainty), or 0.
  uint64_t watermark_ns() const;
  // Host time of the last record read from a ring where poll() stopped at its batch limit (the
  // ring holds more), or UINT64_MAX when poll() read every ring empty.
  uint64_t read_limit_ns() const;
  // attached = 0, every enable byte off. Idempotent.
  void detach();
  void report(std::FILE* err) const;

  const std::string& name() const { return name_; }
  uint32_t index() const { return index_; }
  const std::vector<uint32_t>& probe_ids() const { return probe_ids_; }
  bool stopped() const { return stopped_; }
  void set_stopped() { stopped_ = true; }
  const clock::GuestClock& clock() const { return clock_; }
  // "measured, +-3.2 us" (or why there is no translation yet): the bound readings taken now
  // have, or with `over_run` the worst any record of this run was translated with.
  std::string clock_description(bool over_run = false) const;
  bool attached() const { return attached_; }

 private:
  vtrace_guest_header* header() const { return static_cast<vtrace_guest_header*>(base_); }
  struct Counters {
    uint64_t relay_drops = 0, process_drops = 0, process_rejects = 0, kernel_lost = 0, unsynced = 0;
  };
  Counters read_counters() const;
  struct Entry;
  bool accept_entry(const vtrace_guest_probe& e, engine::Catalog& catalog, Entry& entry);
  // Host ns of a guest reading by the clock model, on its timeline without pauses.
  uint64_t model_ns(uint64_t guest_tsc) const;
  uint64_t to_host_ns(uint64_t guest_tsc) const;
  // to_host_ns() of a record read now: also follows the latest reading and counts records a
  // pause makes ambiguous.
  // `bound_ns`: the reading's +- (UINT64_MAX: no translation yet, the arrival time is used).
  uint64_t translate(uint64_t guest_tsc, uint64_t& bound_ns);
  void try_exact_clock(const std::vector<clock::HandshakeSample>& burst);
  // STOP and RESUME events since the last call. False while the guest's records must wait: it
  // is paused, or it resumed and its translation could not be re-measured yet.
  bool follow_pauses();
  // After a resume: how far the guest clock fell behind, from the tightest ping of `burst`.
  void measure_jump(const std::vector<clock::HandshakeSample>& burst);
  // One burst of `pings` pings the agent answers, each waited for up to `ping_wait_ns`. False
  // with `error` when it answers none.
  bool ping_burst(std::vector<clock::HandshakeSample>& burst, std::string& error,
                  int pings = kPingsPerBurst, uint64_t ping_wait_ns = 10'000'000);
  // Whether a ping (of `burst`) fits the translation (host readings on the model's timeline).
  bool sample_fits(const clock::HandshakeSample& s) const;
  bool burst_fits(const std::vector<clock::HandshakeSample>& burst) const;
  // Records stamped up to the burst's latest guest reading are translated right.
  void verified_by(const std::vector<clock::HandshakeSample>& burst);
  // The guest's watermark `wm`, read at `now_ns`, against the translation: a watermark that
  // lies in the future, or too far in the past, means the guest clock stepped or its agent fell
  // behind; pings (asked for here, sent at a later poll when the agent is ready for them) tell
  // which. A step becomes a pause found by its readings (PauseCorrection::step).
  enum class WatermarkFit { Fits, Unverified, Step };
  WatermarkFit check_watermark(uint64_t wm, uint64_t now_ns);
  // The clock stepped since the last check (`burst` does not fit; `after_tsc` a guest reading
  // after the step): a pause found by its readings, its jump measured from `burst` on.
  void found_step(const std::vector<clock::HandshakeSample>& burst, uint64_t now_ns,
                  uint64_t after_tsc);
  // Translates the record of `p` (read from the ring, stamped in guest TSC).
  void translate_record(GuestPending& p);
  // Hands a burst to the clock model, on its timeline without pauses.
  void add_to_model(std::vector<clock::HandshakeSample>& burst);

  std::string name_;
  uint32_t index_;
  int qemu_pid_ = 0;
  void* base_ = nullptr;
  size_t size_ = 0;
  int fd_ = -1;
  transport::GuestLayout layout_;  // the host's own copy, never re-read
  struct Entry {
    uint32_t id = 0;  // catalog id; 0 when the entry was rejected
    uint16_t flags = 0;
    uint16_t nargs = 0;
    uint16_t unread_args = 0;  // Record::unread_args of its records
    uint8_t asked = 0;         // its enable bytes this session: what its records may carry
    bool kernel = false;       // a guest kernel probe (VTRACE_GPROBE_KERNEL)
  };
  std::vector<Entry> entries_;  // table index -> catalog probe
  std::vector<uint32_t> probe_ids_;
  uint32_t table_gen_ = 0;
  uint32_t enable_gen_ = 0;  // the last enable_gen this host wrote
  uint64_t tails_[VTRACE_GUEST_NRINGS] = {};
  bool attached_ = false;
  bool sync_ = false;
  bool stopped_ = false;
  bool traced_ = false;        // attached in this run (its counters are this run's to report)
  bool table_warned_ = false;  // a corrupt probe table was reported
  uint64_t last_agent_beat_ = 0, last_beat_change_ns_ = 0;
  uint64_t attach_ns_ = 0;  // host time of attach(): bounds what guest counters can have grown
  uint64_t ping_seq_ = 0;
  static constexpr int kPingsPerBurst = 24;
  uint64_t watermark_ = 0;            // guest TSC, read by poll() before the rings, checked
  uint64_t read_limit_ = UINT64_MAX;  // guest TSC: read_limit_ns()
  clock::TscClock host_tsc_;
  clock::GuestClock clock_;  // on the timeline without pauses (pause_ maps it to real time)
  clock::PauseCorrection pause_;
  struct JumpCandidate {  // the best measurement of the current pause's jump so far
    bool valid = false;
    uint64_t virtual_ns = 0, real_ns = 0, error_ns = 0;
  } jump_;
  int jump_attempts_ = 0;
  uint64_t seen_virtual_ns_ = 0;  // the latest guest reading seen (model's timeline)
  // Guest TSC up to which the translation was checked after the fact (a watermark or a ping
  // that fitted it): async records stamped later wait in waiting_ (since waiting_since_ns_).
  uint64_t verified_tsc_ = 0;
  std::vector<GuestPending> waiting_;
  static constexpr size_t kMaxWaiting = 65536;  // a guest that is never checked: bounded
  uint64_t unchecked_ = 0;  // records translated unchecked because waiting_ was full
  uint64_t waiting_since_ns_ = 0;
  bool fit_check_asked_ = false;  // ping_request set by check_watermark, pings not sent yet
  uint64_t fit_check_asked_ns_ = 0, next_fit_check_ns_ = 0;
  uint64_t ambiguous_ = 0;             // records placed where a pause's freeze may be
  uint64_t ambiguous_after_step_ = 0;  // records placed after a step they may precede
  // Clock steps the measurements found (no QEMU event announced them): their size and the
  // records translated before the step was measured.
  struct UnannouncedStep {
    int64_t ns;
    uint64_t records;
  };
  std::vector<UnannouncedStep> unannounced_steps_;
  uint64_t translated_since_fit_ = 0;  // records translated since the last burst that fitted
  uint64_t worst_bound_ticks_ = 0;     // the largest bound a translated record had
  std::string events_path_;
  QmpEvents events_;
  std::vector<QmpEvent> event_buf_;
  bool kvm_ = false, kvm_checked_ = false;
  std::string clock_note_;  // why the translation is measured, not exact
  transport::RejectCounts rejects_;
  Counters at_attach_;        // the agent's counters when this run attached
  uint64_t bad_entries_ = 0;  // probe table entries rejected
};

// Every guest of a run. Their records are merged by translated time on the one timeline, a lane
// per guest (targets/timeline.h, GuestSession).
class GuestTargets {
 public:
  // Record::target of guest k is kFirstIndex + k (processes count from 1).
  static constexpr uint32_t kFirstIndex = 0x10000;
  GuestTarget& add(const std::string& vm_name);
  std::vector<std::unique_ptr<GuestTarget>>& all() { return guests_; }
  const std::vector<std::unique_ptr<GuestTarget>>& all() const { return guests_; }
  bool empty() const { return guests_.empty(); }
  // Adds new table entries of every guest to the catalog; returns the first new catalog id,
  // or 0 when none was added.
  uint32_t refresh_tables(engine::Catalog& catalog);
  void detach();
  void report(std::FILE* err) const;

 private:
  std::vector<std::unique_ptr<GuestTarget>> guests_;
};

}  // namespace vtrace::targets::qemu
