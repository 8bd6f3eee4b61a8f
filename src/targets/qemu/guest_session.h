// The guests of a script run: VMs started for it (--vm, stopped at its end) and every running VM
// as a target, its probes in the catalog under the VM's name. Guests a clause can reach (an
// enabled probe, or a description naming the VM) get a tracing session: attached, clocks
// measured, probes enabled.
#pragma once
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "engine/catalog.h"
#include "targets/qemu/guest_target.h"
#include "targets/target.h"
#include "bytecode/module.h"

namespace vtrace::targets::qemu {

class GuestSession : public Target {
 public:
  ~GuestSession() override;  // stops the VMs this run started

  // Starts the --vm guests that are not running yet, then opens every running guest and reads
  // its probe table into the catalog. False with `error` set.
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
  const char* name() const override { return "guests"; }
  bool enable(const EnableRequest& req, std::string& error) override;
  bool active() const override { return !attached_.empty(); }
  // Reads every guest's rings; delivers their records merged by translated time (async: each
  // once every live guest's watermark has passed it; sync: at once).
  size_t poll(RecordSink& sink, uint64_t now_ns) override;
  // The guests' common watermark (a stalled guest's is left behind after kMaxHoldNs).
  uint64_t watermark() const override { return guests_.watermark(); }
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
  void heartbeats(uint64_t now_ns);
  void deliver(Record& rec, RecordSink& sink);  // annotated first

  targets::qemu::GuestTargets guests_;
  std::vector<targets::qemu::GuestTarget*> attached_;
  std::vector<std::string> started_;
  uint64_t next_clock_ns_ = 0;
  uint64_t clock_period_ns_ = 0;
  std::function<void(Record&)> annotate_;
};

}  // namespace vtrace::targets::qemu
