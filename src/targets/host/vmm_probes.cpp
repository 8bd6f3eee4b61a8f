#include "targets/host/vmm_probes.h"

#include <cstring>
#include <fstream>
#include <set>

#include "engine/engine.h"
#include "engine/glob.h"

namespace vtrace::targets::host {

namespace {

constexpr const char* kNames[] = {"preempt", "resume", "halt", "exit", "entry"};

// An integer field of a sample, 0 when absent or outside it.
int64_t read_int(const sys::EventField* f, const uint8_t* d, uint32_t len) {
  if (f == nullptr || (f->size != 4 && f->size != 8) || uint64_t{f->offset} + f->size > len)
    return 0;
  if (f->size == 4) {
    int32_t v;
    std::memcpy(&v, d + f->offset, 4);
    return v;
  }
  int64_t v;
  std::memcpy(&v, d + f->offset, 8);
  return v;
}

// The Tgid and name of a host thread, from /proc.
void read_thread(int32_t tid, int32_t& pid, char (&comm)[kExecnameLen]) {
  std::ifstream status("/proc/" + std::to_string(tid) + "/status");
  std::string line;
  pid = 0;
  std::memset(comm, 0, sizeof comm);
  while (std::getline(status, line)) {
    if (line.rfind("Name:\t", 0) == 0)
      std::strncpy(comm, line.c_str() + 6, kExecnameLen - 1);
    else if (line.rfind("Tgid:\t", 0) == 0)
      pid = std::atoi(line.c_str() + 6);
  }
}

}  // namespace

VmmProbes::VmmProbes(engine::Catalog& catalog, KernelProbes& kernel, VcpuQuery query)
    : kernel_(kernel), query_(std::move(query)) {
  catalog.add_on_demand(
      [this](const bytecode::ProbeSpec& spec, engine::Catalog& cat) { on_demand(spec, cat); });
}

void VmmProbes::add_vm(const std::string& name, uint32_t target) {
  vms_.push_back(Vm{name, target});
}

bool VmmProbes::uses_vcpustolen(const bytecode::Module& module) {
  for (const auto& c : module.clauses)
    for (const bytecode::Insn& in : c.code)
      if (in.op == bytecode::Op::Ldb &&
          in.imm == static_cast<uint32_t>(bytecode::Builtin::Vcpustolen))
        return true;
  return false;
}

void VmmProbes::on_demand(const bytecode::ProbeSpec& spec, engine::Catalog& cat) {
  if (spec.provider.empty() || !engine::glob_match(spec.provider, "vmm")) return;
  for (Vm& vm : vms_) {
    if (vm.registered || (!spec.target.empty() && !engine::glob_match(spec.target, vm.name)))
      continue;
    vm.registered = true;
    if (!kernel_.tracepoint_exists("sched", "sched_switch")) continue;
    for (Probe p : {Preempt, Resume, Halt}) {
      vm.ids[p] = cat.add(vm.name, "vmm", "", "", kNames[p]);
      kernel_.add_derived(vm.ids[p], "sched", "sched_switch", this);
    }
    if (kernel_.tracepoint_exists("kvm", "kvm_exit")) {
      vm.ids[Exit] = cat.add(vm.name, "vmm", "", "", kNames[Exit]);
      kernel_.add_derived(vm.ids[Exit], "kvm", "kvm_exit", this);
    }
    if (kernel_.tracepoint_exists("kvm", "kvm_entry")) {
      vm.ids[Entry] = cat.add(vm.name, "vmm", "", "", kNames[Entry]);
      kernel_.add_derived(vm.ids[Entry], "kvm", "kvm_entry", this);
    }
  }
}

bool VmmProbes::start(const std::vector<uint32_t>& enabled, bool stolen, std::string& err) {
  const std::set<uint32_t> on(enabled.begin(), enabled.end());
  stolen_ = stolen;
  for (uint32_t v = 0; v < vms_.size(); ++v) {
    Vm& vm = vms_[v];
    bool any = false;
    for (int p = 0; p < kProbes; ++p)
      if (vm.ids[p] != 0 && on.count(vm.ids[p])) {
        vm.enabled[p] = vm.ids[p];
        any = true;
      }
    if (!any && !stolen) continue;
    std::string why;
    std::vector<VcpuThread> threads = query_(vm.name, why);
    if (threads.empty()) {
      err = "VM " + vm.name + ": cannot find its vCPU threads: " + why;
      return false;
    }
    for (const VcpuThread& t : threads) {
      tracker_.add_vcpu(vm.target, t.index, t.tid);
      Thread& th = threads_.emplace_back();
      th.vm = v;
      read_thread(t.tid, th.pid, th.comm);
      if (th.pid == 0) th.pid = t.tid;
    }
  }
  // vcpustolen needs every switch of the vCPU threads, whether a vmm probe is enabled or not.
  if (stolen_ && tracker_.size() > 0) kernel_.subscribe("sched", "sched_switch", this);
  return true;
}

Record VmmProbes::base(uint32_t slot, uint32_t probe, const KernelProbes::Sample& s) const {
  const VmmTracker::Vcpu& v = tracker_.vcpu(slot);
  const Thread& th = threads_[slot];
  Record rec;
  rec.probe = probe;
  rec.target = v.target;
  rec.pid = th.pid;
  rec.tid = v.tid;
  rec.cpu = static_cast<int32_t>(v.index);
  rec.timestamp = rec.raw_timestamp = s.time;
  std::memcpy(rec.execname, th.comm, kExecnameLen);
  rec.data = s.data;
  rec.data_len = s.len;
  return rec;
}

void VmmProbes::on_sample(const KernelProbes::Sample& s, RecordSink& sink) {
  if (s.format == switch_fmt_) return on_switch(s, sink);
  const std::string& name = s.format->name;
  if (name == "sched_switch") {
    switch_fmt_ = s.format;
    prev_pid_ = s.format->field("prev_pid");
    prev_state_ = s.format->field("prev_state");
    next_pid_ = s.format->field("next_pid");
    on_switch(s, sink);
  } else if (name == "kvm_exit") {
    on_kvm(s, Exit, sink);
  } else if (name == "kvm_entry") {
    on_kvm(s, Entry, sink);
  }
}

void VmmProbes::on_switch(const KernelProbes::Sample& s, RecordSink& sink) {
  const auto prev = static_cast<int32_t>(read_int(prev_pid_, s.data, s.len));
  const auto next = static_cast<int32_t>(read_int(next_pid_, s.data, s.len));
  if (!tracker_.tracks(prev) && !tracker_.tracks(next)) return;
  const int64_t state = read_int(prev_state_, s.data, s.len);
  transitions_.clear();
  tracker_.on_switch({s.time, prev, state, next}, transitions_);
  for (const VmmTracker::Transition& t : transitions_) {
    const Probe p = t.event == VmmTracker::Event::Preempt ? Preempt
                    : t.event == VmmTracker::Event::Halt  ? Halt
                                                          : Resume;
    const uint32_t id = vms_[threads_[t.slot].vm].enabled[p];
    if (id == 0) continue;
    Record rec = base(t.slot, id, s);
    rec.args[0] = tracker_.vcpu(t.slot).index;
    rec.args[1] = s.cpu;
    // The other task of the switch: the one that took the CPU, or gave it back.
    const int32_t other = p == Resume ? prev : next;
    rec.args[2] = other;
    rec.args[3] = other == 0 ? 0 : kernel_.process_of(other);
    if (p == Halt) rec.args[4] = state;
    if (p == Resume) {
      rec.args[4] = static_cast<int64_t>(t.off_ns);
      rec.args[5] = static_cast<int64_t>(t.stolen);
    }
    sink.deliver(rec);
    if (sink.closed()) return;
  }
}

void VmmProbes::on_kvm(const KernelProbes::Sample& s, Probe which, RecordSink& sink) {
  tracker_.for_each_slot(s.tid, [&](uint32_t slot) {
    const uint32_t id = vms_[threads_[slot].vm].enabled[which];
    if (id == 0 || sink.closed()) return;
    Record rec = base(slot, id, s);
    if (which == Exit) {
      kernel_.fill_kvm_exit(rec, s);
    } else {
      rec.args[0] = read_int(s.format->field("vcpu_id"), s.data, s.len);
      rec.args[1] = read_int(s.format->field("rip"), s.data, s.len);
    }
    sink.deliver(rec);
  });
}

}  // namespace vtrace::targets::host
