// The guests of a script run: VMs started for it (--vm, stopped at its end) and every running VM
// as a target, its probes in the catalog under the VM's name. Guests a clause can reach (an
// enabled probe, or a description naming the VM) get a tracing session: attached, clocks
// measured, probes enabled.
#pragma once
#include <cstdio>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "bytecode/module.h"
#include "clock/time_merge.h"
#include "engine/catalog.h"
#include "targets/qemu/guest_symbolizer.h"
#include "targets/qemu/guest_target.h"
#include "targets/target.h"

namespace vtrace::targets::qemu {

class GuestSession : public Target {
 public:
  ~GuestSession() override;  // stops the VMs this run started

  // Starts the --vm guests that are not running yet, then opens every running guest and reads
  // its probe table into the catalog. Descriptions of probes a guest makes on request ask each
  // guest they can reach when they are matched (GuestTarget::request_probes): fbt probes
  // (`fbt::vfs_read:entry`, `web1:fbt::vfs_*:`) and, when the description names the guest,
  // profile probes (`web1:profile:::profile-997`). False with `error` set.
  bool open(const std::vector<std::string>& start_vms, engine::Catalog& catalog, bool quiet,
            std::string& error);
  // Attaches the guests the program can reach, measures their clocks, enables their probes.
  bool start(const bytecode::Module& module, const std::vector<uint32_t>& enabled, bool sync,
             std::string& error);
  // Re-writes the enable bytes (after the engine enabled probes that appeared later).
  void enable(const std::vector<uint32_t>& enabled);
  // Sets what happens to each guest record before it is delivered (the hypervisor layer's
  // vcpustolen, targets/host/vmm_probes.h).
  void set_annotate(std::function<void(Record&)> annotate) { annotate_ = std::move(annotate); }

  targets::qemu::GuestTargets& targets() { return guests_; }
  // The guests' symbols for stacks (the host's symbolizer hands their addresses here).
  engine::Symbolizer& symbolizer() { return symbolizer_; }
  const char* name() const override { return "guests"; }
  bool enable(const EnableRequest& req, std::string& error) override;
  bool active() const override { return !attached_.empty(); }
  // Reads every guest's rings and delivers their records, each in its guest's lane of the
  // timeline, which merges them by translated time (async: each once every live lane's
  // watermark has passed it; sync: at once).
  size_t poll(RecordSink& sink, uint64_t now_ns) override;
  // The earliest watermark of the guests it traces.
  uint64_t watermark() const override;
  // A ring per vCPU: async records come unsorted (sync ones sorted here, poll_sync()).
  bool ordered() const override { return sync_; }
  // A lane per guest (its clock): guest k's records are Record::target kFirstIndex + k. (The
  // timeline keeps one lane even for no guest: it is never live.)
  size_t lanes() const override { return guests_.all().size(); }
  size_t lane_of(const Record& rec) const override {
    return rec.target - GuestTargets::kFirstIndex;
  }
  uint64_t lane_watermark(size_t lane) const override;
  bool lane_live(size_t lane) const override;
  std::string lane_name(size_t lane) const override {
    return lane < lanes() ? guests_.all()[lane]->name() : name();
  }
  // Heartbeats, clock measurements (every second), guests that stopped, and probes that
  // appeared in a guest since the start (a program started there after the script): the
  // engine enables its clauses on them.
  void tick(uint64_t now_ns, engine::Engine& eng) override;
  // Sync guests: a vCPU waits at a probe for the next poll, but spinning would take a host CPU
  // from the vCPUs (TCG guests need them to get to the next probe at all).
  uint64_t sync_poll_ns() const override { return attached_.empty() ? UINT64_MAX : 20'000; }
  // At the end: turns every guest probe off and delivers what the guests wrote before, in
  // order, until each guest has caught up with the moment of the stop (at most a second); then
  // detaches.
  void drain(RecordSink& sink) override;
  // Drops and rejects per guest, and each traced guest's clock bound.
  void report(std::FILE* err) const override;
  // Detaches, then stops the guests this run started (attached guests stay listed for report).
  void finish();

 private:
  void wait_ready();
  // The catalog's on-demand hook for probes guests make on request (see open()).
  void on_demand(const bytecode::ProbeSpec& spec, engine::Catalog& catalog);
  std::set<std::string> requested_;  // "VM\nREQUEST" already asked
  GuestSymbolizer symbolizer_;
  // What each guest probe's clauses need read when it fires (VTRACE_GEN_*), from the run's
  // clause needs; empty before enable().
  std::function<uint8_t(uint32_t)> wants_;
  void heartbeats(uint64_t now_ns);
  // Async: reads the guest's rings into `sink` (its lane: the timeline sorts); returns how many
  // records it read.
  size_t poll_guest(GuestTarget& g, RecordSink& sink);
  // Sync: the timeline runs records as they come, and a guest's vCPU waits at its probe until
  // its record has run; but a guest's kernel events (relayed, not waited for) and what a guest
  // wrote after giving up on the host are in other rings: each round is merged by time here,
  // up to the point every guest's rings were read to (read_limit_ns), and each record is marked
  // done once it has run.
  size_t poll_sync(RecordSink& sink, uint64_t now_ns);
  // Fixes its string's pointer, annotates (vcpustolen), delivers and marks it done.
  void deliver(GuestPending& p, GuestTarget& g, RecordSink& sink);
  // Whether every guest it traces has delivered everything stamped before host time `t`.
  bool caught_up(uint64_t t) const;

  targets::qemu::GuestTargets guests_;
  std::vector<targets::qemu::GuestTarget*> attached_;
  std::vector<std::string> started_;
  uint64_t next_clock_ns_ = 0;
  uint64_t clock_period_ns_ = 0;
  std::function<void(Record&)> annotate_;
  bool sync_ = false;
  std::vector<GuestPending> polled_;                       // one guest's records of a poll
  clock::TimeMerge<GuestPending> sync_merge_{UINT64_MAX};  // sync: source k is guest k
};

}  // namespace vtrace::targets::qemu
