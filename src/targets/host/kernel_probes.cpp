#include "targets/host/kernel_probes.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>

#include "bpf/syscall_numbers.h"
#include "engine/engine.h"
#include "engine/glob.h"
#include "engine/profile_provider.h"

namespace vtrace::targets::host {

namespace {

constexpr const char* kGroups[] = {"syscall", "sched", "proc", "kvm", "tracepoint"};
constexpr size_t kMaxRecordsPerRing = 8192;  // per poll round, so a round stays bounded
constexpr size_t kMaxTasks = 1 << 16;        // the comm cache is dropped when it grows past this

// Pending types that are not perf record types: a profile-N sample (arena holds arg0, arg1) and
// a tracepoint's gather record (arena holds its bytes).
constexpr uint32_t kProfileSample = 0x10000;
constexpr uint32_t kGatherRecord = 0x10001;
constexpr uint32_t kDataLocExtra =
    512;  // bytes gathered past the fixed part for __data_loc strings

// An integer field of a record, 0 when absent or outside the record.
int64_t int_field(const sys::EventFormat& fmt, const char* name, const uint8_t* d, uint32_t len) {
  const sys::EventField* f = fmt.field(name);
  if (!f || f->is_string() || (f->size != 1 && f->size != 2 && f->size != 4 && f->size != 8) ||
      uint64_t{f->offset} + f->size > len)
    return 0;
  uint64_t v = 0;
  std::memcpy(&v, d + f->offset, f->size);
  return lang::narrow(static_cast<int64_t>(v),
                      lang::Type::int_of(static_cast<uint8_t>(f->size), f->is_signed));
}

void set_comm(char (&dst)[kExecnameLen], const char* src, size_t max) {
  size_t n = strnlen(src, std::min<size_t>(max, kExecnameLen - 1));
  std::memcpy(dst, src, n);
  dst[n] = '\0';
}

uint32_t align4(uint32_t v) {
  return (v + 3) & ~3u;
}

bool is_int_field(const sys::EventField* f) {
  return f && !f->is_string() && (f->size == 1 || f->size == 2 || f->size == 4 || f->size == 8);
}

// The side and number of a syscalls:sys_enter_NAME / sys_exit_NAME tracepoint the raw syscall
// tracepoints can stand for (bpf/syscall_program.h): its number is known and its format is the
// record they rebuild (__syscall_nr at 8, then 8-byte args from 16, or ret at 16). Nothing for
// any other tracepoint, which keeps its own perf event (a syscall newer than the build's
// <asm/unistd_64.h> included).
struct RawSyscall {
  bpf::SyscallSide side;
  uint32_t nr;
};
std::optional<RawSyscall> raw_syscall(const sys::EventFormat& f) {
  if (f.system != "syscalls") return std::nullopt;
  const bool enter = f.name.rfind("sys_enter_", 0) == 0;
  if (!enter && f.name.rfind("sys_exit_", 0) != 0) return std::nullopt;
  auto nr = bpf::syscall_number(std::string_view(f.name).substr(enter ? 10 : 9));
  const sys::EventField* n = f.field("__syscall_nr");
  if (!nr || !n || n->offset != 8 || n->size != 4) return std::nullopt;
  const auto args = f.args();
  if (args.size() > (enter ? 6u : 1u) || (!enter && args.empty())) return std::nullopt;
  for (size_t i = 0; i < args.size(); ++i)
    if (args[i]->offset != 16 + 8 * i || args[i]->size != 8 || args[i]->is_string())
      return std::nullopt;
  for (const sys::EventField& field : f.fields)
    if (field.is_common() && field.offset + field.size > 8) return std::nullopt;
  return RawSyscall{enter ? bpf::SyscallSide::Enter : bpf::SyscallSide::Exit, *nr};
}

}  // namespace

// The tracepoint field that argument i of a probe of `kind` is, or nullptr when the host computes
// it (another task's pid) or the probe has no such argument.
const sys::EventField* KernelProbes::arg_field(Kind kind, const sys::EventFormat& fmt, int64_t i) {
  if (kind == Kind::SyscallEntry || kind == Kind::Tracepoint) {
    auto args = fmt.args();
    return i >= 0 && i < static_cast<int64_t>(args.size()) && is_int_field(args[i]) ? args[i]
                                                                                    : nullptr;
  }
  static const std::map<Kind, std::vector<const char*>> names = {
      {Kind::SyscallReturn, {"ret"}},
      {Kind::OffCpu, {"next_pid"}},
      {Kind::OnCpu, {"prev_pid"}},
      {Kind::Wakeup, {"pid", nullptr, "target_cpu"}},
      {Kind::Exec, {"pid", "old_pid"}},
      {Kind::Exit, {"pid"}},
      {Kind::Create, {"child_pid", "parent_pid"}},
      {Kind::KvmExit, {"exit_reason", "guest_rip", "vcpu_id"}},
      {Kind::KvmEntry, {"vcpu_id", "rip"}},
  };
  auto it = names.find(kind);
  if (it == names.end() || i < 0 || i >= static_cast<int64_t>(it->second.size()) ||
      it->second[i] == nullptr)
    return nullptr;
  const sys::EventField* f = fmt.field(it->second[i]);
  return is_int_field(f) ? f : nullptr;
}

// Argument i as a Field of the tracepoint record, for programs that read it at the probe.
// An argument the probe does not have reads 0, as in fill(); one the host computes from its own
// tables (another task's pid) cannot be read at the probe.
std::optional<bpf::ExprOp> KernelProbes::arg_op(Kind kind, const sys::EventFormat& fmt, int64_t i) {
  if (i == 1 && (kind == Kind::OffCpu || kind == Kind::OnCpu || kind == Kind::Wakeup))
    return std::nullopt;
  const sys::EventField* f = arg_field(kind, fmt, i);
  bpf::ExprOp o;
  if (!f) return o;  // Const 0
  o.kind = bpf::ExprOp::Field;
  o.offset = f->offset;
  o.size = static_cast<uint8_t>(f->size);
  o.is_signed = f->is_signed;
  return o;
}

KernelProbes::KernelProbes(engine::Catalog& catalog) : catalog_(catalog) {
  catalog.add_on_demand(
      [this](const bytecode::ProbeSpec& spec, engine::Catalog& cat) { on_demand(spec, cat); });
}

KernelProbes::~KernelProbes() = default;

bool KernelProbes::open_tracefs() {
  if (fs_state_ == 0) fs_state_ = fs_.open(fs_err_) ? 1 : -1;
  return fs_state_ == 1;
}

void KernelProbes::on_demand(const bytecode::ProbeSpec& spec, engine::Catalog& cat) {
  if (!spec.target.empty() && !engine::glob_match(spec.target, "host")) return;
  if (spec.provider.empty()) return;  // only descriptions that name a kernel provider
  if (spec.provider == "fbt" && !fbt_said_) {
    // Said once: the description may match guests' fbt probes (qemu/guest_session.h).
    fbt_said_ = true;
    const bool kprobes =
        open_tracefs() && access((fs_.root() + "/kprobe_events").c_str(), F_OK) == 0;
    std::fprintf(stderr,
                 "vtrace: no fbt probes in the host kernel: %s; guests have them "
                 "(VM:fbt::FUNCTION:entry)\n",
                 kprobes ? "vtrace makes fbt probes only inside guests so far"
                         : "it has no kprobes (no kprobe_events in tracefs)");
  }
  for (const char* g : kGroups)
    if (!groups_[g] && engine::glob_match(spec.provider, g)) {
      groups_[g] = true;
      if (open_tracefs()) register_group(g, cat);
    }
}

void KernelProbes::register_group(const std::string& g, engine::Catalog& cat) {
  auto add = [&](const char* provider, const std::string& module, const std::string& function,
                 const char* name, Kind kind, const std::string& sys, const std::string& ev) {
    if (!fs_.exists(sys, ev)) return;
    uint32_t id = cat.add("host", provider, module, function, name);
    defs_[id] = Def{kind, sys, ev};
  };
  if (g == "syscall") {
    for (const auto& [sys, ev] : fs_.events()) {
      if (sys != "syscalls") continue;
      if (ev.rfind("sys_enter_", 0) == 0)
        add("syscall", "", ev.substr(10), "entry", Kind::SyscallEntry, sys, ev);
      else if (ev.rfind("sys_exit_", 0) == 0)
        add("syscall", "", ev.substr(9), "return", Kind::SyscallReturn, sys, ev);
    }
  } else if (g == "sched") {
    add("sched", "", "", "off-cpu", Kind::OffCpu, "sched", "sched_switch");
    add("sched", "", "", "on-cpu", Kind::OnCpu, "sched", "sched_switch");
    add("sched", "", "", "wakeup", Kind::Wakeup, "sched", "sched_wakeup");
  } else if (g == "proc") {
    add("proc", "", "", "create", Kind::Create, "sched", "sched_process_fork");
    add("proc", "", "", "exec", Kind::Exec, "sched", "sched_process_exec");
    add("proc", "", "", "exit", Kind::Exit, "sched", "sched_process_exit");
  } else if (g == "kvm") {
    add("kvm", "", "", "entry", Kind::KvmEntry, "kvm", "kvm_entry");
    add("kvm", "", "", "exit", Kind::KvmExit, "kvm", "kvm_exit");
  } else if (g == "tracepoint") {
    for (const auto& [sys, ev] : fs_.events())
      if (sys != "ftrace") add("tracepoint", sys, "", ev.c_str(), Kind::Tracepoint, sys, ev);
  }
}

bool KernelProbes::tracepoint_exists(const std::string& system, const std::string& event) {
  return open_tracefs() && fs_.exists(system, event);
}

void KernelProbes::add_derived(uint32_t id, const std::string& system, const std::string& event,
                               Listener* listener) {
  defs_[id] = Def{Kind::Derived, system, event, listener};
}

void KernelProbes::subscribe(const std::string& system, const std::string& event,
                             Listener* listener) {
  subs_.push_back({system, event, listener});
}

const sys::EventFormat* KernelProbes::format_of(const Def& d, std::string& err) {
  return fs_.format(d.system, d.event, err);
}

lang::FieldResolver KernelProbes::field_resolver() {
  return [this](const std::vector<bytecode::ProbeSpec>& probes, const std::string& field,
                std::string& err) { return resolve(probes, field, err); };
}

std::optional<bytecode::FieldRef> KernelProbes::resolve(
    const std::vector<bytecode::ProbeSpec>& probes, const std::string& field, std::string& err) {
  std::optional<bytecode::FieldRef> out;
  std::string first;
  for (const auto& spec : probes) {
    for (uint32_t id : catalog_.match(spec)) {
      const engine::ProbeInfo& p = catalog_.probe(id);
      const std::string name = p.full_name();
      auto it = defs_.find(id);
      if (it == defs_.end()) {
        err = "args->" + field + ": " + name + " is not a kernel tracepoint probe";
        return std::nullopt;
      }
      const sys::EventFormat* fmt = format_of(it->second, err);
      if (!fmt) return std::nullopt;
      bytecode::FieldRef ref;
      ref.name = field;
      const bool kvm_exit = it->second.system == "kvm" && it->second.event == "kvm_exit";
      if (kvm_exit && field == "reason_name") {
        ref.kind = bytecode::FieldRef::DataLoc;  // appended to the record by fill()
        ref.offset = align4(fmt->fixed_size());
        ref.size = 4;
      } else {
        const sys::EventField* f = fmt->field(field);
        if (!f) {
          err = name + " has no field " + field;
          return std::nullopt;
        }
        ref.offset = f->offset;
        ref.size = f->size;
        ref.is_signed = f->is_signed;
        if (f->data_loc) {
          ref.kind = f->type.rfind("__rel_loc", 0) == 0 ? bytecode::FieldRef::RelLoc
                                                        : bytecode::FieldRef::DataLoc;
        } else if (f->char_array) {
          ref.kind = bytecode::FieldRef::CharArray;
        } else if (f->size != 1 && f->size != 2 && f->size != 4 && f->size != 8) {
          err = "args->" + field + " of " + name + " (" + f->type +
                ") is neither an integer nor a string";
          return std::nullopt;
        }
      }
      if (out && !(*out == ref)) {
        err = "args->" + field + " differs between the clause's probes " + first + " and " + name;
        return std::nullopt;
      }
      if (!out) first = name;
      out = ref;
    }
  }
  if (!out) err = "args->" + field + ": the clause's probes match no kernel tracepoint";
  return out;
}

bool KernelProbes::clause_target(uint32_t id, const sys::EventFormat*& format,
                                 bpf::ClauseTarget& target) {
  auto it = defs_.find(id);
  if (it == defs_.end() || it->second.kind == Kind::Derived || it->second.kind == Kind::KvmExit)
    return false;
  std::string err;
  format = format_of(it->second, err);
  if (!format) return false;
  const Kind kind = it->second.kind;
  const sys::EventFormat* fmt = format;
  target.arg = [kind, fmt](int64_t i) { return arg_op(kind, *fmt, i); };
  target.current_thread = kind != Kind::OnCpu;
  target.errno_from_arg0 = kind == Kind::SyscallReturn;
  target.probe_id = id;
  if (auto raw = raw_syscall(*fmt)) {
    bpf::ClauseTarget::Syscall syscall;
    syscall.side = raw->side;
    syscall.nr = raw->nr;
    syscall.record_size = fmt->fixed_size();
    target.syscall = syscall;
  }
  return true;
}

bool KernelProbes::wants(const std::vector<uint32_t>& ids) const {
  if (!subs_.empty()) return true;
  for (uint32_t id : ids)
    if (defs_.count(id) || engine::ProfileProvider::sample_period(catalog_.probe(id))) return true;
  return false;
}

bpf::GatherPlan KernelProbes::plan_for(const Tp& tp, const NeedsFn& needs, uint32_t strsize) const {
  const sys::EventFormat& fmt = *tp.format;
  bpf::GatherPlan plan;
  plan.data_size = fmt.fixed_size();
  for (const sys::EventField& f : fmt.fields)
    if (f.data_loc) plan.data_extra = kDataLocExtra;
  plan.strsize = strsize;
  bpf::ClauseNeeds all;
  for (const auto& [id, kind] : tp.probes) {
    bpf::ClauseNeeds n = needs(id);
    // The probe's arguments become the fields of the record they are read from; a string whose
    // address the probe cannot compute is left out (the engine faults "not gathered").
    auto arg = [&, kind = kind](int64_t i) { return arg_op(kind, fmt, i); };
    bpf::ClauseNeeds resolved;
    for (bpf::StringCopy c : n.strings)
      if (bpf::resolve_args(c.addr, arg) && bpf::resolve_args(c.len, arg))
        resolved.strings.push_back(std::move(c));
    // sched:::on-cpu runs in the thread leaving the CPU: its stacks are not the probe's.
    if (kind != Kind::OnCpu) {
      resolved.kernel_frames = n.kernel_frames;
      resolved.user_frames = n.user_frames;
    }
    all.merge(resolved);
  }
  plan.strings = std::move(all.strings);
  plan.kernel_frames = all.kernel_frames;
  plan.user_frames = all.user_frames;
  return plan;
}

bool KernelProbes::start(const std::vector<uint32_t>& enabled, const NeedsFn& needs,
                         uint64_t bufsize, uint32_t strsize, std::string& err) {
  std::map<std::string, uint32_t> index;
  std::vector<uint32_t> ids(enabled);
  std::sort(ids.begin(), ids.end());
  // The Tp of a tracepoint (added on first use), or nullptr with err set.
  auto tp_of = [&](const Def& d) -> Tp* {
    const sys::EventFormat* fmt = format_of(d, err);
    if (!fmt) return nullptr;
    auto [slot, added] =
        index.try_emplace(d.system + "/" + d.event, static_cast<uint32_t>(tps_.size()));
    if (added) tps_.push_back(Tp{fmt, {}, {}});
    return &tps_[slot->second];
  };
  auto listen = [](Tp& tp, Listener* l) {
    if (std::find(tp.listeners.begin(), tp.listeners.end(), l) == tp.listeners.end())
      tp.listeners.push_back(l);
  };
  for (uint32_t id : ids) {
    auto it = defs_.find(id);
    if (it == defs_.end()) continue;
    Tp* tp = tp_of(it->second);
    if (!tp) return false;
    if (it->second.kind == Kind::Derived)
      listen(*tp, it->second.listener);
    else
      tp->probes.push_back({id, it->second.kind});
  }
  if (!subs_.empty() && !open_tracefs()) {
    err = "host: " + fs_err_;
    return false;
  }
  for (const Subscription& sub : subs_) {
    Tp* tp = tp_of(Def{Kind::Derived, sub.system, sub.event, sub.listener});
    if (!tp) return false;
    listen(*tp, sub.listener);
  }
  std::vector<ProfileSampler::Probe> profiles;
  for (uint32_t id : ids)
    if (auto period = engine::ProfileProvider::sample_period(catalog_.probe(id)))
      profiles.push_back({id, *period, catalog_.probe(id).name});
  if (tps_.empty() && profiles.empty()) return true;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_t pages = 1;
  while (pages * 2 * page <= bufsize && pages < (size_t{1} << 16)) pages *= 2;
  cpus_ = sys::online_cpu_list();
  if (!tps_.empty()) {
    std::vector<TracepointGatherer::Source> sources;
    for (const Tp& tp : tps_) {
      TracepointGatherer::Source src{tp.format, plan_for(tp, needs, strsize), {}, 0};
      if (auto raw = raw_syscall(*tp.format)) {
        src.syscall = raw->side;
        src.nr = raw->nr;
      }
      sources.push_back(std::move(src));
    }
    if (!gatherer_.open(std::move(sources), bufsize, err)) return false;
  }
  // The sampler's rings report comm changes for the execname of its samples.
  if (!profiles.empty() && !sampler_.open(profiles, cpus_, pages, true, err)) {
    gatherer_.detach();
    return false;
  }
  if (int e = sampler_.enable(); e != 0) {
    err = sys::perf_error_message(e, "host: enabling a profile-N (cpu-clock) event");
    return false;
  }
  return true;
}

void KernelProbes::side_band(uint32_t type, const uint8_t* body, size_t len) {
  if (tasks_.size() > kMaxTasks) tasks_.clear();
  if (type == PERF_RECORD_COMM && len >= 9) {
    int32_t pid, tid;
    std::memcpy(&pid, body, 4);
    std::memcpy(&tid, body + 4, 4);
    Task& t = tasks_[tid];
    t.pid = pid;
    set_comm(t.comm, reinterpret_cast<const char*>(body + 8), len - 8);
  } else if (type == PERF_RECORD_FORK && len >= 16) {
    int32_t pid, ppid, tid, ptid;
    std::memcpy(&pid, body, 4);
    std::memcpy(&ppid, body + 4, 4);
    std::memcpy(&tid, body + 8, 4);
    std::memcpy(&ptid, body + 12, 4);
    (void)ppid;
    auto parent = tasks_.find(ptid);
    if (parent == tasks_.end()) {
      tasks_.erase(tid);  // read from /proc when first needed
      return;
    }
    Task t = parent->second;
    t.pid = pid;
    tasks_[tid] = t;
  }
}

const KernelProbes::Task& KernelProbes::task(int32_t tid, int32_t pid_hint) {
  auto it = tasks_.find(tid);
  if (it != tasks_.end()) {
    if (it->second.pid == 0 && pid_hint != 0) it->second.pid = pid_hint;
    return it->second;
  }
  Task t;
  if (tid == 0) {
    set_comm(t.comm, "swapper", 8);
  } else {
    std::ifstream status("/proc/" + std::to_string(tid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("Name:\t", 0) == 0) set_comm(t.comm, line.c_str() + 6, line.size() - 6);
      if (line.rfind("Tgid:\t", 0) == 0) {
        t.pid = std::atoi(line.c_str() + 6);
        break;
      }
    }
  }
  if (t.pid == 0) t.pid = pid_hint;
  // A task that is gone before its events are read (a short -c command) has no /proc entry:
  // take it for a main thread, whose pid is its tid, rather than report pid 0.
  if (t.pid == 0) t.pid = tid;
  return tasks_.emplace(tid, t).first->second;
}

void KernelProbes::queue_side_band(uint32_t type, const uint8_t* body, size_t len) {
  if (type != PERF_RECORD_COMM && type != PERF_RECORD_FORK) return;
  // sample_id_all trailer: {pid, tid}, time, {cpu, res}, identifier (the same for the
  // tracepoints' and the sampler's sample_type).
  uint64_t time = 0;
  if (len < 32 + 8) return;
  std::memcpy(&time, body + len - 24, 8);
  pending_.push_back({time, type, 0, 0, 0, 0, arena_.size(), static_cast<uint32_t>(len - 32)});
  arena_.insert(arena_.end(), body, body + len - 32);
}

size_t KernelProbes::poll(RecordSink& sink, uint64_t now_ns) {
  if (!active()) return 0;
  pending_.clear();
  arena_.clear();
  uint64_t watermark = settled_before(now_ns);
  for (size_t c = 0; c < sampler_.rings(); ++c) {
    const size_t first = pending_.size();
    const size_t n = sampler_.read(
        c,
        [&](const ProfileSampler::Sample& s) {
          // arena: arg0, arg1, the number of kernel and user frames, the frames.
          const uint64_t head[4] = {s.kernel_pc, s.user_pc, s.kstack->size(), s.ustack->size()};
          const size_t len = sizeof head + 8 * (s.kstack->size() + s.ustack->size());
          pending_.push_back({s.time, kProfileSample, s.probe, s.cpu, s.pid, s.tid, arena_.size(),
                              static_cast<uint32_t>(len)});
          auto put = [&](const uint64_t* v, size_t n) {
            const auto* b = reinterpret_cast<const uint8_t*>(v);
            arena_.insert(arena_.end(), b, b + 8 * n);
          };
          put(head, 4);
          put(s.kstack->data(), s.kstack->size());
          put(s.ustack->data(), s.ustack->size());
        },
        [&](uint32_t type, const uint8_t* body, size_t len) { queue_side_band(type, body, len); },
        kMaxRecordsPerRing);
    // A ring left unread past the cap: only what it delivered is surely complete.
    if (n >= kMaxRecordsPerRing && pending_.size() > first)
      watermark = std::min(watermark, pending_.back().time);
  }
  watermark_ = std::max(watermark_, watermark);
  gatherer_.read([&](uint32_t tp, const uint8_t* bytes, size_t len) {
    bpf::GatherHeader h;
    std::memcpy(&h, bytes, sizeof h);
    pending_.push_back({h.time, kGatherRecord, tp, h.cpu, static_cast<int32_t>(h.pid),
                        static_cast<int32_t>(h.tid), arena_.size(), static_cast<uint32_t>(len)});
    arena_.insert(arena_.end(), bytes, bytes + len);
  });
  std::stable_sort(pending_.begin(), pending_.end(),
                   [](const Pending& a, const Pending& b) { return a.time < b.time; });
  for (const Pending& p : pending_) {
    if (sink.closed()) break;
    if (p.type == kGatherRecord)
      emit(p, sink);
    else if (p.type == kProfileSample)
      emit_profile(p, sink);
    else
      side_band(p.type, arena_.data() + p.off, p.len);
  }
  return pending_.size();
}

void KernelProbes::emit(const Pending& p, RecordSink& sink) {
  const Tp& tp = tps_[p.tp];
  if (!gatherer_.parse(p.tp, arena_.data() + p.off, p.len, view_)) {
    gatherer_.count_malformed();
    return;
  }
  // The firing thread's name and process, for records about it made later (sched:::wakeup).
  Task& cur = tasks_[p.tid];
  cur.pid = p.pid;
  set_comm(cur.comm, view_.header.comm, sizeof view_.header.comm);
  if (!tp.listeners.empty()) {
    const Sample s{
        tp.format, p.time, p.cpu, p.pid, p.tid, view_.data, static_cast<uint32_t>(view_.data_len)};
    for (Listener* l : tp.listeners) {
      l->on_sample(s, sink);
      if (sink.closed()) return;
    }
  }
  for (const auto& [id, kind] : tp.probes) {
    Record rec;
    rec.probe = id;
    fill(rec, kind, tp, view_);
    sink.deliver(rec);
    if (sink.closed()) return;
  }
}

void KernelProbes::emit_profile(const Pending& p, RecordSink& sink) {
  Record rec;
  rec.probe = p.tp;
  rec.pid = p.pid;
  rec.tid = p.tid;
  rec.cpu = static_cast<int32_t>(p.cpu);
  rec.timestamp = rec.raw_timestamp = p.time;
  const Task& cur = task(p.tid, p.pid);
  std::memcpy(rec.execname, cur.comm, kExecnameLen);
  uint64_t head[4];
  std::memcpy(head, arena_.data() + p.off, sizeof head);
  rec.args[0] = static_cast<int64_t>(head[0]);
  rec.args[1] = static_cast<int64_t>(head[1]);
  // The interrupted thread's stacks, as the kernel unwound them when it took the sample.
  const auto* frames = reinterpret_cast<const uint64_t*>(arena_.data() + p.off + sizeof head);
  context_.set_stacks(rec, frames, head[2], frames + head[2], head[3]);
  sink.deliver(rec);
}

void KernelProbes::fill(Record& rec, Kind kind, const Tp& tp, const bpf::GatherView& v) {
  const sys::EventFormat& fmt = *tp.format;
  const uint8_t* d = v.data;
  const uint32_t len = static_cast<uint32_t>(v.data_len);
  const bpf::GatherHeader& h = v.header;
  context_.fill(rec, v, h.kstack_len != 0 || !v.kstack.empty(),
                h.ustack_len != 0 || !v.ustack.empty());
  rec.data = d;
  rec.data_len = len;
  auto field = [&](const char* name) { return int_field(fmt, name, d, len); };
  auto arg = [&](int i) {
    const sys::EventField* f = arg_field(kind, fmt, i);
    return f ? int_field(fmt, f->name.c_str(), d, len) : 0;
  };
  switch (kind) {
    case Kind::SyscallEntry:
    case Kind::Tracepoint: {
      const size_t n = std::min<size_t>(fmt.args().size(), kRecordArgs);
      for (size_t i = 0; i < n; ++i) rec.args[i] = arg(static_cast<int>(i));
      break;
    }
    case Kind::SyscallReturn: {
      int64_t ret = arg(0);
      rec.args[0] = ret;
      rec.errno_value = ret >= -4095 && ret <= -1 ? static_cast<int32_t>(-ret) : 0;
      break;
    }
    case Kind::OffCpu: {
      int32_t next = static_cast<int32_t>(arg(0));
      rec.args[0] = next;
      rec.args[1] = task(next, 0).pid;
      break;
    }
    case Kind::OnCpu: {
      rec.other_thread = true;
      const int32_t prev_pid = rec.pid;
      int32_t next = static_cast<int32_t>(field("next_pid"));
      const Task& t = task(next, 0);
      rec.tid = next;
      rec.pid = t.pid != 0 ? t.pid : next;
      const sys::EventField* comm = fmt.field("next_comm");
      if (comm && comm->char_array && uint64_t{comm->offset} + comm->size <= len)
        set_comm(rec.execname, reinterpret_cast<const char*>(d + comm->offset), comm->size);
      else
        std::memcpy(rec.execname, t.comm, kExecnameLen);
      rec.args[0] = arg(0);
      rec.args[1] = prev_pid;
      break;
    }
    case Kind::Wakeup: {
      int32_t woken = static_cast<int32_t>(arg(0));
      rec.args[0] = woken;
      rec.args[1] = task(woken, 0).pid;
      rec.args[2] = arg(2);
      break;
    }
    case Kind::Exec:
    case Kind::Exit:
    case Kind::Create:
    case Kind::KvmEntry:
      for (int i = 0; i < 2; ++i) rec.args[i] = arg(i);
      break;
    case Kind::KvmExit:
      kvm_exit_fields(rec, fmt, d, len);
      break;
    case Kind::Derived:
      break;
  }
}

void KernelProbes::fill_kvm_exit(Record& rec, const Sample& s) {
  rec.data = s.data;
  rec.data_len = s.len;
  kvm_exit_fields(rec, *s.format, s.data, s.len);
}

void KernelProbes::kvm_exit_fields(Record& rec, const sys::EventFormat& fmt, const uint8_t* d,
                                   uint32_t len) {
  if (!reasons_loaded_) {  // from the format's print fmt, on the first exit
    reasons_loaded_ = true;
    auto tables = sys::print_symbolic_tables(fmt.print_fmt);
    if (tables.size() >= 1) vmx_reasons_ = tables[0];
    if (tables.size() >= 2) svm_reasons_ = tables[1];
  }
  auto field = [&](const char* name) { return int_field(fmt, name, d, len); };
  int64_t reason = field("exit_reason");
  rec.args[0] = reason;
  rec.args[1] = field("guest_rip");
  rec.args[2] = field("vcpu_id");
  // args->reason_name: the reason's name, appended to a copy of the record as a __data_loc
  // string.
  const auto& table = field("isa") == 1 ? vmx_reasons_ : svm_reasons_;
  auto it = table.find(field("isa") == 1 ? (reason & 0xffff) : reason);
  std::string name = it != table.end() ? it->second : "UNKNOWN_" + std::to_string(reason);
  const uint32_t at = align4(fmt.fixed_size());
  if (len > at + 4 + 0xffff) return;
  data_buf_.assign(d, d + len);
  data_buf_.resize(std::max<size_t>(len, at + 4), 0);
  const uint32_t str_off = static_cast<uint32_t>(data_buf_.size());
  data_buf_.insert(data_buf_.end(), name.begin(), name.end());
  data_buf_.push_back(0);
  uint32_t loc = (static_cast<uint32_t>(name.size() + 1) << 16) | str_off;
  std::memcpy(data_buf_.data() + at, &loc, 4);
  rec.data = data_buf_.data();
  rec.data_len = static_cast<uint32_t>(data_buf_.size());
}

bool KernelProbes::enable(const EnableRequest& req, std::string& error) {
  if (!wants(req.gathered)) return true;
  const engine::Options& o = req.engine->options();
  return start(req.gathered, req.needs, o.bufsize, static_cast<uint32_t>(o.strsize), error);
}

void KernelProbes::drain(RecordSink& sink) {
  if (!active()) return;
  gatherer_.detach();
  sampler_.disable();
  for (int i = 0; i < 1000 && poll(sink, UINT64_MAX) > 0; ++i) {
  }
}

uint64_t KernelProbes::lost() const {
  uint64_t n = 0;
  for (uint64_t d : gatherer_.drops()) n += d;
  return n + sampler_.lost();
}

void KernelProbes::report(std::FILE* out) const {
  const std::vector<uint64_t> drops = gatherer_.drops();
  for (size_t c = 0; c < drops.size(); ++c)
    if (drops[c] > 0)
      std::fprintf(out, "vtrace: host: %llu events lost on cpu %zu (BPF ring full)\n",
                   static_cast<unsigned long long>(drops[c]), c);
  if (gatherer_.malformed() > 0)
    std::fprintf(out, "vtrace: host: %llu malformed BPF records\n",
                 static_cast<unsigned long long>(gatherer_.malformed()));
  for (size_t c = 0; c < sampler_.rings(); ++c) {
    const sys::RingStats& s = sampler_.stats(c);
    if (s.lost > 0)
      std::fprintf(out, "vtrace: host: %llu profile samples lost on cpu %u (perf ring overflow)\n",
                   static_cast<unsigned long long>(s.lost), sampler_.cpu_of(c));
    if (s.malformed > 0)
      std::fprintf(out, "vtrace: host: %llu malformed perf records on cpu %u\n",
                   static_cast<unsigned long long>(s.malformed), sampler_.cpu_of(c));
  }
  if (sampler_.malformed() > 0)
    std::fprintf(out, "vtrace: host: %llu profile samples could not be decoded\n",
                 static_cast<unsigned long long>(sampler_.malformed()));
}

}  // namespace vtrace::targets::host
