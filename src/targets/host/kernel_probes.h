// The host target's kernel providers, from tracepoints through perf_event_open (no BPF):
//   syscall::NAME:entry / return   syscalls:sys_enter_NAME / sys_exit_NAME. entry: arg0..argN
//                                  are the syscall's arguments; return: arg0 is the return value
//                                  and errno is -ret when ret is in [-4095, -1], else 0.
//   sched:::off-cpu / on-cpu       sched:sched_switch. As DTrace's sched provider, off-cpu fires
//                                  in the context of the thread leaving the CPU (pid, tid,
//                                  execname are prev's; arg0 = next tid, arg1 = next pid) and
//                                  on-cpu in the context of the thread taking it (next's;
//                                  arg0 = prev tid, arg1 = prev pid).
//   sched:::wakeup                 sched:sched_wakeup, in the waker's context; arg0 = the woken
//                                  tid, arg1 = its pid, arg2 = its target CPU.
//   proc:::exec / exit / create    sched:sched_process_exec (arg0 = pid, arg1 = old pid),
//                                  sched_process_exit (arg0 = pid), sched_process_fork (in the
//                                  parent; arg0 = child pid, arg1 = parent pid).
//   kvm:::exit / entry             kvm:kvm_exit / kvm_entry where they exist. exit: arg0 = exit
//                                  reason, arg1 = guest rip, arg2 = vcpu id, args->reason_name
//                                  the reason's name (VMX or SVM table of the format's print fmt).
//                                  entry: arg0 = vcpu id, arg1 = rip.
//   tracepoint:SYSTEM::EVENT       any tracepoint; arg0..argN its fields in order.
//   NAME:vmm:::*                   each guest's hypervisor layer (vmm_probes.h): derived probes,
//                                  whose records a Listener makes from a tracepoint's samples.
//   profile:::profile-N            every CPU sampled N times a second (profile_sampler.h): pid,
//                                  tid, execname, cpu of the interrupted task; arg0 = kernel PC
//                                  (0 in user mode), arg1 = user PC (0 in the kernel).
//                                  Needs perf events on every CPU (root): without them the run
//                                  fails; tick-N stays a timer in the tracer (profile_provider.h).
// Every kernel probe reads the fields of its tracepoint's record by name as args->FIELD.
// Tracepoints run a BPF program each (tracepoint_gatherer.h) that reads, in the firing thread:
// pid, tid, cpu, timestamp (CLOCK_MONOTONIC ns, the host timebase), execname, uid, gid, ppid,
// vtimestamp, the strings copyinstr() will ask for and the stacks stack()/ustack() will print
// (bpf/clause_needs.h). Syscall tracepoints (syscall:::*, tracepoint:syscalls::*) share two
// raw tracepoints, sys_enter and sys_exit, that rebuild each syscall's tracepoint record
// (bpf/syscall_program.h), instead of ~370 perf events that took ~25 s to attach and detach;
// a syscall newer than the build's <asm/unistd_64.h> keeps its own perf event. sched:::on-cpu
// describes the thread taking the CPU while its program runs in the one leaving it: its
// credentials, vtimestamp and stacks are not gathered (they fault).
#pragma once
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "bpf/clause_needs.h"
#include "bpf/clause_program.h"
#include "engine/catalog.h"
#include "lang/compiler.h"
#include "sys/perf_ring.h"
#include "sys/tracefs.h"
#include "targets/host/gathered_context.h"
#include "targets/host/profile_sampler.h"
#include "targets/host/tracepoint_gatherer.h"
#include "targets/target.h"
#include "transport/record.h"

namespace vtrace::engine {
class Engine;
}

namespace vtrace::targets::host {

class KernelProbes : public Target {
 public:
  // One sample of a tracepoint, for a Listener.
  struct Sample {
    const sys::EventFormat* format;
    uint64_t time;  // CLOCK_MONOTONIC ns
    uint32_t cpu;
    int32_t pid, tid;  // the task the sample was taken in
    const uint8_t* data;
    uint32_t len;
  };
  // Sees every sample of the tracepoints it listens to, in time order with every other kernel
  // record of a poll round.
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void on_sample(const Sample& s, RecordSink& sink) = 0;
  };

  // Registers an on-demand hook: the kernel providers' probes join the catalog only when a
  // description names one of their providers (vtrace -l stays fast).
  explicit KernelProbes(engine::Catalog& catalog);
  ~KernelProbes();
  KernelProbes(const KernelProbes&) = delete;
  KernelProbes& operator=(const KernelProbes&) = delete;

  // The compiler's args->FIELD resolver for this catalog's kernel probes.
  lang::FieldResolver field_resolver();

  // Whether tracefs lists the tracepoint (false when tracefs is unusable).
  bool tracepoint_exists(const std::string& system, const std::string& event);
  // Probe `id` derives from tracepoint system:event: args->FIELD resolves against its format and,
  // while the probe is enabled, `listener` sees the tracepoint's samples (and makes the records).
  void add_derived(uint32_t id, const std::string& system, const std::string& event,
                   Listener* listener);
  // `listener` sees every sample of system:event from start(), enabled probe or not.
  void subscribe(const std::string& system, const std::string& event, Listener* listener);
  // kvm:::exit's args (arg0 reason, arg1 rip, arg2 vcpu id) and args->reason_name into `rec`
  // (rec.data may point into this object until the next call).
  void fill_kvm_exit(Record& rec, const Sample& s);

  // The process (tgid) of a host thread, from the execname cache (or /proc).
  int32_t process_of(int32_t tid) { return task(tid, 0).pid; }

  // Probe `id` as a clause placed at the probe sees it (bpf/clause_program.h): its tracepoint and
  // arguments. False for probes that are not plain tracepoint probes.
  bool clause_target(uint32_t id, const sys::EventFormat*& format, bpf::ClauseTarget& target);

  // Whether any of these probes is a kernel probe, profile-N included (or a listener subscribed).
  bool wants(const std::vector<uint32_t>& probe_ids) const;
  // What the clauses enabled on a probe need gathered where it fires.
  using NeedsFn = std::function<bpf::ClauseNeeds(uint32_t probe)>;
  // Loads and attaches one BPF program per tracepoint the kernel probes among `enabled` use
  // (gathering what `needs` says, strings of `strsize` bytes), into one ring of `bufsize` bytes,
  // and opens one cpu-clock event per (profile-N probe, CPU). False with a message (cause and
  // fix) on failure.
  bool start(const std::vector<uint32_t>& enabled, const NeedsFn& needs, uint64_t bufsize,
             uint32_t strsize, std::string& err);
  const char* name() const override { return "host kernel"; }
  // start() for the probes among req.gathered that are kernel probes (none: nothing to do).
  bool enable(const EnableRequest& req, std::string& error) override;
  bool active() const override { return gatherer_.active() || sampler_.active(); }
  // Drains every ring once; records merged by timestamp go to `sink`. Returns how many.
  size_t poll(RecordSink& sink, uint64_t now_ns) override;
  // Everything stamped before the last poll began has been read, but for a record a CPU was
  // writing at that moment (a BPF program runs for microseconds): settled_before() covers it.
  uint64_t watermark() const override { return watermark_; }
  // Disables the events and drains what they wrote.
  void drain(RecordSink& sink) override;
  // "vtrace: host: N events lost on cpu C (BPF ring full)" per CPU that lost any.
  void report(std::FILE* out) const override;
  uint64_t lost() const;
  // Why the kernel providers have no probes (tracefs unusable), or "".
  const std::string& unavailable() const { return fs_err_; }

 private:
  enum class Kind : uint8_t {
    SyscallEntry,
    SyscallReturn,
    OnCpu,
    OffCpu,
    Wakeup,
    Exec,
    Exit,
    Create,
    KvmExit,
    KvmEntry,
    Tracepoint,
    Derived,  // made by a Listener
  };
  struct Def {
    Kind kind;
    std::string system, event;
    Listener* listener = nullptr;  // Derived
  };
  struct Tp {  // one tracepoint in use
    const sys::EventFormat* format = nullptr;
    std::vector<std::pair<uint32_t, Kind>> probes;  // enabled probes it fires, in id order
    std::vector<Listener*> listeners;
  };
  struct Subscription {
    std::string system, event;
    Listener* listener;
  };
  struct Pending {
    uint64_t time;
    // kGatherRecord, kProfileSample, or a side-band record (COMM, FORK) applied in order
    uint32_t type;
    uint32_t tp, cpu;  // tp: the probe id of a kProfileSample
    int32_t pid, tid;
    size_t off;
    uint32_t len;
  };
  struct Task {
    int32_t pid = 0;
    char comm[kExecnameLen] = {};
  };

  static const sys::EventField* arg_field(Kind kind, const sys::EventFormat& fmt, int64_t i);
  static std::optional<bpf::ExprOp> arg_op(Kind kind, const sys::EventFormat& fmt, int64_t i);
  void on_demand(const bytecode::ProbeSpec& spec, engine::Catalog& cat);
  bool open_tracefs();
  const sys::EventFormat* format_of(const Def& d, std::string& err);
  void register_group(const std::string& provider, engine::Catalog& cat);
  std::optional<bytecode::FieldRef> resolve(const std::vector<bytecode::ProbeSpec>& probes,
                                            const std::string& field, std::string& err);
  bpf::GatherPlan plan_for(const Tp& tp, const NeedsFn& needs, uint32_t strsize) const;
  void side_band(uint32_t type, const uint8_t* body, size_t len);
  const Task& task(int32_t tid, int32_t pid_hint);
  void emit(const Pending& p, RecordSink& sink);
  void emit_profile(const Pending& p, RecordSink& sink);
  void queue_side_band(uint32_t type, const uint8_t* body, size_t len);
  void fill(Record& rec, Kind kind, const Tp& tp, const bpf::GatherView& v);
  void kvm_exit_fields(Record& rec, const sys::EventFormat& fmt, const uint8_t* d, uint32_t len);

  engine::Catalog& catalog_;
  sys::Tracefs fs_;
  int fs_state_ = 0;  // 0 unknown, 1 usable, -1 not
  std::string fs_err_;
  bool fbt_said_ = false;  // why the host has no fbt probes was said
  std::map<std::string, bool> groups_;      // providers registered
  std::unordered_map<uint32_t, Def> defs_;  // catalog probe id -> its tracepoint
  std::vector<Subscription> subs_;
  std::vector<uint32_t> cpus_;
  TracepointGatherer gatherer_;  // one source per tps_ entry, same index
  ProfileSampler sampler_;       // profile-N, rings of its own
  std::vector<Tp> tps_;
  bpf::GatherView view_;     // the record being emitted
  GatheredContext context_;  // its context, strings and stacks, for the engine
  std::unordered_map<int32_t, Task> tasks_;
  std::vector<Pending> pending_;
  uint64_t watermark_ = 0;
  std::vector<uint8_t> arena_;
  std::vector<uint8_t> data_buf_;
  std::map<int64_t, std::string> vmx_reasons_, svm_reasons_;
  bool reasons_loaded_ = false;
};

}  // namespace vtrace::targets::host
