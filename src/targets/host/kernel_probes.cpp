#include "targets/host/kernel_probes.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>

#include "engine/engine.h"
#include "engine/glob.h"
#include "engine/profile_provider.h"

namespace vtrace::targets::host {

namespace {

constexpr const char* kGroups[] = {"syscall", "sched", "proc", "kvm", "tracepoint"};
constexpr size_t kMaxRecordsPerRing = 8192;  // per poll round, so a round stays bounded
constexpr size_t kMaxTasks = 1 << 16;        // the comm cache is dropped when it grows past this

// A Pending that is a profile-N sample (not a perf record type): arena holds arg0, arg1.
constexpr uint32_t kProfileSample = 0x10000;

constexpr uint64_t kSampleType =
    PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU | PERF_SAMPLE_RAW;

// An integer field of a record, 0 when absent or outside the record.
int64_t int_field(const EventFormat& fmt, const char* name, const uint8_t* d, uint32_t len) {
  const EventField* f = fmt.field(name);
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

}  // namespace

KernelProbes::KernelProbes(engine::Catalog& catalog) : catalog_(catalog) {
  catalog.add_on_demand(
      [this](const vm::ProbeSpec& spec, engine::Catalog& cat) { on_demand(spec, cat); });
}

KernelProbes::~KernelProbes() = default;

bool KernelProbes::open_tracefs() {
  if (fs_state_ == 0) fs_state_ = fs_.open(fs_err_) ? 1 : -1;
  return fs_state_ == 1;
}

void KernelProbes::on_demand(const vm::ProbeSpec& spec, engine::Catalog& cat) {
  if (!spec.target.empty() && !engine::glob_match(spec.target, "host")) return;
  if (spec.provider.empty()) return;  // only descriptions that name a kernel provider
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

const EventFormat* KernelProbes::format_of(const Def& d, std::string& err) {
  return fs_.format(d.system, d.event, err);
}

lang::FieldResolver KernelProbes::field_resolver() {
  return [this](const std::vector<vm::ProbeSpec>& probes, const std::string& field,
                std::string& err) { return resolve(probes, field, err); };
}

std::optional<vm::FieldRef> KernelProbes::resolve(const std::vector<vm::ProbeSpec>& probes,
                                                  const std::string& field, std::string& err) {
  std::optional<vm::FieldRef> out;
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
      const EventFormat* fmt = format_of(it->second, err);
      if (!fmt) return std::nullopt;
      vm::FieldRef ref;
      ref.name = field;
      const bool kvm_exit = it->second.system == "kvm" && it->second.event == "kvm_exit";
      if (kvm_exit && field == "reason_name") {
        ref.kind = vm::FieldRef::DataLoc;  // appended to the record by fill()
        ref.offset = align4(fmt->fixed_size());
        ref.size = 4;
      } else {
        const EventField* f = fmt->field(field);
        if (!f) {
          err = name + " has no field " + field;
          return std::nullopt;
        }
        ref.offset = f->offset;
        ref.size = f->size;
        ref.is_signed = f->is_signed;
        if (f->data_loc) {
          ref.kind =
              f->type.rfind("__rel_loc", 0) == 0 ? vm::FieldRef::RelLoc : vm::FieldRef::DataLoc;
        } else if (f->char_array) {
          ref.kind = vm::FieldRef::CharArray;
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

bool KernelProbes::wants(const std::vector<uint32_t>& ids) const {
  if (!subs_.empty()) return true;
  for (uint32_t id : ids)
    if (defs_.count(id) || engine::ProfileProvider::sample_period(catalog_.probe(id))) return true;
  return false;
}

bool KernelProbes::open_cpu(uint32_t cpu, const std::vector<const EventFormat*>& tps, size_t pages,
                            std::string& err) {
  for (size_t i = 0; i < tps.size(); ++i) {
    perf_event_attr attr = tracepoint_attr(tps[i]->id);
    attr.sample_type = kSampleType;
    if (i == 0) want_task_records(attr);  // the ring's first event feeds the execname cache
    PerfRing ev;
    int e = open_cpu_event(ev, attr, cpu, i == 0 ? pages : 0);
    const std::string what = "host: perf_event_open of tracepoint " + tps[i]->system + ":" +
                             tps[i]->name + " on cpu " + std::to_string(cpu);
    if (e != 0) {
      err = perf_error_message(e, what);
      return false;
    }
    if (i > 0 && (e = ev.redirect_to(rings_.back())) != 0) {
      err = perf_error_message(e, what + " (PERF_EVENT_IOC_SET_OUTPUT)");
      return false;
    }
    uint64_t sid = 0;
    if ((e = ev.event_id(sid)) != 0) {
      err = perf_error_message(e, what + " (PERF_EVENT_IOC_ID)");
      return false;
    }
    by_id_[sid] = static_cast<uint32_t>(i);
    if (i == 0)
      rings_.push_back(std::move(ev));
    else
      events_.push_back(std::move(ev));
  }
  return true;
}

bool KernelProbes::start(const std::vector<uint32_t>& enabled, uint64_t bufsize, std::string& err) {
  std::map<std::string, uint32_t> index;
  std::vector<const EventFormat*> formats;
  std::vector<uint32_t> ids(enabled);
  std::sort(ids.begin(), ids.end());
  // The Tp of a tracepoint (added on first use), or nullptr with err set.
  auto tp_of = [&](const Def& d) -> Tp* {
    const EventFormat* fmt = format_of(d, err);
    if (!fmt) return nullptr;
    auto [slot, added] =
        index.try_emplace(d.system + "/" + d.event, static_cast<uint32_t>(tps_.size()));
    if (added) {
      tps_.push_back(Tp{fmt, {}, {}});
      formats.push_back(fmt);
    }
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
  cpus_ = online_cpu_list();
  if (!tps_.empty())
    for (uint32_t cpu : cpus_)
      if (!open_cpu(cpu, formats, pages, err)) {
        rings_.clear();
        events_.clear();
        return false;
      }
  // The sampler's rings report comm changes only when no tracepoint ring does.
  if (!profiles.empty() && !sampler_.open(profiles, cpus_, pages, rings_.empty(), err)) {
    rings_.clear();
    events_.clear();
    return false;
  }
  for (auto* set : {&rings_, &events_})
    for (auto& ev : *set)
      if (int e = ev.enable(); e != 0) {
        err = perf_error_message(e, "host: enabling a tracepoint event");
        return false;
      }
  if (int e = sampler_.enable(); e != 0) {
    err = perf_error_message(e, "host: enabling a profile-N (cpu-clock) event");
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

size_t KernelProbes::poll(engine::Engine& eng) {
  if (!active()) return 0;
  pending_.clear();
  arena_.clear();
  const SampleLayout layout{kSampleType, 0};
  for (size_t c = 0; c < sampler_.rings(); ++c)
    sampler_.read(
        c,
        [&](const ProfileSampler::Sample& s) {
          pending_.push_back(
              {s.time, kProfileSample, s.probe, s.cpu, s.pid, s.tid, arena_.size(), 16});
          const uint64_t args[2] = {s.kernel_pc, s.user_pc};
          const auto* b = reinterpret_cast<const uint8_t*>(args);
          arena_.insert(arena_.end(), b, b + sizeof args);
        },
        [&](uint32_t type, const uint8_t* body, size_t len) { queue_side_band(type, body, len); },
        kMaxRecordsPerRing);
  for (size_t c = 0; c < rings_.size(); ++c) {
    rings_[c].read_identified(
        layout, by_id_, malformed_,
        [&](const SampleView& s, uint32_t tp) {
          pending_.push_back({s.time, PERF_RECORD_SAMPLE, tp, s.cpu, static_cast<int32_t>(s.pid),
                              static_cast<int32_t>(s.tid), arena_.size(), s.raw_size});
          arena_.insert(arena_.end(), s.raw, s.raw + s.raw_size);
        },
        [&](uint32_t type, const uint8_t* body, size_t len) { queue_side_band(type, body, len); },
        kMaxRecordsPerRing);
  }
  std::stable_sort(pending_.begin(), pending_.end(),
                   [](const Pending& a, const Pending& b) { return a.time < b.time; });
  for (const Pending& p : pending_) {
    if (eng.exited()) break;
    if (p.type == PERF_RECORD_SAMPLE)
      emit(p, eng);
    else if (p.type == kProfileSample)
      emit_profile(p, eng);
    else
      side_band(p.type, arena_.data() + p.off, p.len);
  }
  return pending_.size();
}

void KernelProbes::emit(const Pending& p, engine::Engine& eng) {
  const Tp& tp = tps_[p.tp];
  if (!tp.listeners.empty()) {
    const Sample s{tp.format, p.time, p.cpu, p.pid, p.tid, arena_.data() + p.off, p.len};
    for (Listener* l : tp.listeners) {
      l->on_sample(s, eng);
      if (eng.exited()) return;
    }
  }
  for (const auto& [id, kind] : tp.probes) {
    Record rec;
    rec.probe = id;
    fill(rec, kind, tp, p);
    eng.process(rec);
    if (eng.exited()) return;
  }
}

void KernelProbes::emit_profile(const Pending& p, engine::Engine& eng) {
  Record rec;
  rec.probe = p.tp;
  rec.pid = p.pid;
  rec.tid = p.tid;
  rec.cpu = static_cast<int32_t>(p.cpu);
  rec.timestamp = rec.raw_timestamp = p.time;
  const Task& cur = task(p.tid, p.pid);
  std::memcpy(rec.execname, cur.comm, kExecnameLen);
  std::memcpy(&rec.args[0], arena_.data() + p.off, 8);
  std::memcpy(&rec.args[1], arena_.data() + p.off + 8, 8);
  eng.process(rec);
}

void KernelProbes::fill(Record& rec, Kind kind, const Tp& tp, const Pending& p) {
  const EventFormat& fmt = *tp.format;
  const uint8_t* d = arena_.data() + p.off;
  const uint32_t len = p.len;
  rec.pid = p.pid;
  rec.tid = p.tid;
  rec.cpu = static_cast<int32_t>(p.cpu);
  rec.timestamp = rec.raw_timestamp = p.time;
  rec.data = d;
  rec.data_len = len;
  const Task& cur = task(p.tid, p.pid);
  std::memcpy(rec.execname, cur.comm, kExecnameLen);
  auto field = [&](const char* name) { return int_field(fmt, name, d, len); };
  switch (kind) {
    case Kind::SyscallEntry:
    case Kind::Tracepoint: {
      int i = 0;
      for (const EventField* f : fmt.args()) {
        if (i == kRecordArgs) break;
        rec.args[i++] = f->is_string() ? 0 : field(f->name.c_str());
      }
      break;
    }
    case Kind::SyscallReturn: {
      int64_t ret = field("ret");
      rec.args[0] = ret;
      rec.errno_value = ret >= -4095 && ret <= -1 ? static_cast<int32_t>(-ret) : 0;
      break;
    }
    case Kind::OffCpu: {
      const EventField* comm = fmt.field("prev_comm");
      if (comm && comm->char_array && uint64_t{comm->offset} + comm->size <= len)
        set_comm(rec.execname, reinterpret_cast<const char*>(d + comm->offset), comm->size);
      int32_t next = static_cast<int32_t>(field("next_pid"));
      rec.args[0] = next;
      rec.args[1] = task(next, 0).pid;
      break;
    }
    case Kind::OnCpu: {
      int32_t next = static_cast<int32_t>(field("next_pid"));
      const Task& t = task(next, 0);
      rec.tid = next;
      rec.pid = t.pid != 0 ? t.pid : next;
      const EventField* comm = fmt.field("next_comm");
      if (comm && comm->char_array && uint64_t{comm->offset} + comm->size <= len)
        set_comm(rec.execname, reinterpret_cast<const char*>(d + comm->offset), comm->size);
      else
        std::memcpy(rec.execname, t.comm, kExecnameLen);
      rec.args[0] = field("prev_pid");
      rec.args[1] = p.pid;
      break;
    }
    case Kind::Wakeup: {
      int32_t woken = static_cast<int32_t>(field("pid"));
      rec.args[0] = woken;
      rec.args[1] = task(woken, 0).pid;
      rec.args[2] = field("target_cpu");
      break;
    }
    case Kind::Exec:
      rec.args[0] = field("pid");
      rec.args[1] = field("old_pid");
      break;
    case Kind::Exit:
      rec.args[0] = field("pid");
      break;
    case Kind::Create:
      rec.args[0] = field("child_pid");
      rec.args[1] = field("parent_pid");
      break;
    case Kind::KvmExit:
      kvm_exit_fields(rec, fmt, d, len);
      break;
    case Kind::KvmEntry:
      rec.args[0] = field("vcpu_id");
      rec.args[1] = field("rip");
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

void KernelProbes::kvm_exit_fields(Record& rec, const EventFormat& fmt, const uint8_t* d,
                                   uint32_t len) {
  if (!reasons_loaded_) {  // from the format's print fmt, on the first exit
    reasons_loaded_ = true;
    auto tables = print_symbolic_tables(fmt.print_fmt);
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

void KernelProbes::stop(engine::Engine& eng) {
  if (!active()) return;
  for (auto* set : {&rings_, &events_})
    for (auto& ev : *set) ev.disable();
  sampler_.disable();
  for (int i = 0; i < 1000 && poll(eng) > 0; ++i) {
  }
  events_.clear();
}

uint64_t KernelProbes::lost() const {
  uint64_t n = 0;
  for (const auto& r : rings_) n += r.stats().lost;
  return n + sampler_.lost();
}

void KernelProbes::report(std::FILE* out) const {
  for (size_t c = 0; c < rings_.size() && c < cpus_.size(); ++c) {
    const RingStats& s = rings_[c].stats();
    if (s.lost > 0)
      std::fprintf(out, "vtrace: host: %llu events lost on cpu %u (perf ring overflow)\n",
                   static_cast<unsigned long long>(s.lost), cpus_[c]);
    if (s.malformed > 0)
      std::fprintf(out, "vtrace: host: %llu malformed perf records on cpu %u\n",
                   static_cast<unsigned long long>(s.malformed), cpus_[c]);
  }
  for (size_t c = 0; c < sampler_.rings(); ++c) {
    const RingStats& s = sampler_.stats(c);
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
  if (malformed_ > 0)
    std::fprintf(out, "vtrace: host: %llu samples could not be decoded\n",
                 static_cast<unsigned long long>(malformed_));
}

}  // namespace vtrace::targets::host
