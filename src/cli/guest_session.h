// The guests of a script run: VMs started for it (--vm, stopped at its end) and every running VM
// as a target, its probes in the catalog under the VM's name. Guests a clause can reach (an
// enabled probe, or a description naming the VM) get a tracing session: attached, clocks
// measured, probes enabled.
#pragma once
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "clock/host_clock.h"
#include "engine/catalog.h"
#include "targets/qemu/guest_target.h"
#include "vm/module.h"

namespace vtrace::cli {

class GuestSession {
 public:
  ~GuestSession();  // stops the VMs this run started

  // Starts the --vm guests that are not running yet, then opens every running guest and reads
  // its probe table into the catalog. False with `error` set.
  bool open(const std::vector<std::string>& start_vms, engine::Catalog& catalog, bool quiet,
            std::string& error);
  // Attaches the guests the program can reach, measures their clocks, enables their probes.
  bool start(const vm::Module& module, const std::vector<uint32_t>& enabled, bool sync,
             std::string& error);
  // Re-writes the enable bytes (after the engine enabled probes that appeared later).
  void enable(const std::vector<uint32_t>& enabled);
  // At the end: turns every guest probe off and runs what the guests wrote before, in order,
  // until each guest has caught up with the moment of the stop (at most a second).
  template <typename Run>
  void drain(Run&& run) {
    const uint64_t stop = clock::host_now_ns();
    enable({});
    for (auto* g : attached_)
      if (!g->stopped()) g->wait_enabled(1000);
    const uint64_t deadline = clock::host_now_ns() + 1'000'000'000;
    while (clock::host_now_ns() < deadline) {
      guests_.round(run, clock::host_now_ns());
      if (guests_.caught_up(stop)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    for (int i = 0; i < 1000 && guests_.round(run, clock::host_now_ns(), true) > 0; ++i) {
    }
  }

  targets::qemu::GuestTargets& targets() { return guests_; }
  bool active() const { return !attached_.empty(); }
  // Heartbeats, clock measurements (every second), and guests that stopped. Call often.
  void tick(uint64_t now_ns);
  // Detaches, then stops the guests this run started (attached guests stay listed for report).
  void finish();
  // Drops and rejects per guest, and each traced guest's clock bound.
  void report(std::FILE* err) const;

 private:
  void wait_ready();

  targets::qemu::GuestTargets guests_;
  std::vector<targets::qemu::GuestTarget*> attached_;
  std::vector<std::string> started_;
  uint64_t next_clock_ns_ = 0;
  uint64_t clock_period_ns_ = 0;
};

}  // namespace vtrace::cli
