// The hypervisor layer of each QEMU guest: the host's view of its vCPU threads (found with QMP
// query-cpus-fast), as probes whose target is the VM (NAME:vmm:::PROBE):
//   vmm:::preempt   a vCPU thread was switched off a host CPU while runnable: the guest wanted
//                   to run and the host ran another task. arg0 = vCPU index, arg1 = host CPU,
//                   arg2 = tid of the task that took the CPU, arg3 = its pid; args->next_comm
//                   is its name (every sched_switch field reads as args->FIELD).
//   vmm:::halt      a vCPU thread went to sleep (the guest idles in HLT, or the thread waits for
//                   QEMU's lock or I/O). arg0..arg3 as preempt, arg4 = prev_state (the host task
//                   state: 1 S, 2 D, ...).
//   vmm:::resume    a vCPU thread was switched back on. arg0 = vCPU index, arg1 = host CPU,
//                   arg2/arg3 = tid/pid of the task that gave the CPU up (args->prev_comm),
//                   arg4 = ns it was off the CPU, arg5 = the part it was runnable (= arg4 after
//                   a preempt, 0 after a halt; both 0 when its switch-off was not seen).
//   vmm:::exit      kvm:kvm_exit in a vCPU thread: as kvm:::exit (arg0 = exit reason, arg1 =
//                   guest rip, arg2 = KVM's vcpu id, args->reason_name). Listed only where the
//                   kvm tracepoints exist; they fire only for guests that run under KVM.
//   vmm:::entry     kvm:kvm_entry in a vCPU thread: arg0 = KVM's vcpu id, arg1 = rip.
// Per record: vmname is the VM, vcpu (and cpu) the vCPU index, pid/tid the QEMU process and the
// vCPU thread, execname the thread's name, timestamp the host's. As with DTrace's sched
// provider, a probe fires in the context of the thread it is about (the vCPU thread); the other
// task of the switch is in the arguments, its name in args->next_comm / args->prev_comm.
//
// The built-in vcpustolen of a record from inside a guest is the host time its vCPU lost to
// preemption since that vCPU's previous guest record (vmm_tracker.h says how exact it is). It
// needs the sched_switch stream, so a program that reads it tracks every guest's vCPU threads.
//
// vmm records come with the host kernel's records and guest records with the guests': the one
// timeline (targets/timeline.h) runs both in host-time order, within the guests' clock bounds.
// vcpustolen is computed as a guest record is read, from the sched_switch events read by then.
// vtrace's own polling thread is a host task too, and shows up now and then as the one that
// preempted a vCPU.
#pragma once
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "bytecode/module.h"
#include "engine/catalog.h"
#include "targets/host/kernel_probes.h"
#include "targets/host/vmm_tracker.h"
#include "targets/host/vmm_vcpus.h"

namespace vtrace::targets::host {

class VmmProbes : public KernelProbes::Listener {
 public:
  using VcpuQuery = std::function<std::vector<VcpuThread>(const std::string& vm, std::string&)>;

  // Registers an on-demand hook: a VM's vmm probes join the catalog when a description names
  // the vmm provider.
  VmmProbes(engine::Catalog& catalog, KernelProbes& kernel, VcpuQuery query = query_vcpu_threads);
  VmmProbes(const VmmProbes&) = delete;
  VmmProbes& operator=(const VmmProbes&) = delete;

  // A running VM, `target` its records' Record::target (the guest's target index).
  void add_vm(const std::string& name, uint32_t target);

  // Whether a compiled program reads vcpustolen.
  static bool uses_vcpustolen(const bytecode::Module& module);

  // Finds the vCPU threads of every VM with an enabled vmm probe (of every VM when `stolen`),
  // and has the kernel probes feed their samples here. Call before KernelProbes::start. False
  // with a message when a VM's vCPU threads cannot be found.
  bool start(const std::vector<uint32_t>& enabled, bool stolen, std::string& err);
  bool active() const { return tracker_.size() > 0; }

  // Sets rec.vcpu_stolen of a record from inside a guest (vcpustolen).
  void annotate(Record& rec) {
    if (stolen_ && rec.guest)
      rec.vcpu_stolen =
          tracker_.stolen_since_last(rec.target, static_cast<uint32_t>(rec.cpu), rec.timestamp);
  }

  void on_sample(const KernelProbes::Sample& s, RecordSink& sink) override;

  const VmmTracker& tracker() const { return tracker_; }

 private:
  enum Probe { Preempt, Resume, Halt, Exit, Entry, kProbes };
  struct Vm {
    std::string name;
    uint32_t target;
    bool registered = false;
    uint32_t ids[kProbes] = {};      // catalog ids (0: not listed here)
    uint32_t enabled[kProbes] = {};  // the ids enabled in this run
  };
  struct Thread {  // per tracker slot
    uint32_t vm;
    int32_t pid;
    char comm[kExecnameLen];
  };

  void on_demand(const bytecode::ProbeSpec& spec, engine::Catalog& cat);
  void on_switch(const KernelProbes::Sample& s, RecordSink& sink);
  void on_kvm(const KernelProbes::Sample& s, Probe which, RecordSink& sink);
  Record base(uint32_t slot, uint32_t probe, const KernelProbes::Sample& s) const;

  KernelProbes& kernel_;
  VcpuQuery query_;
  std::vector<Vm> vms_;
  VmmTracker tracker_;
  std::vector<Thread> threads_;
  std::vector<VmmTracker::Transition> transitions_;
  bool stolen_ = false;
  // Field offsets of sched_switch (from its format, on the first sample).
  const sys::EventFormat* switch_fmt_ = nullptr;
  const sys::EventField *prev_pid_ = nullptr, *prev_state_ = nullptr, *next_pid_ = nullptr;
};

}  // namespace vtrace::targets::host
