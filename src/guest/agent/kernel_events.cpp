#include "guest/agent/kernel_events.h"

#include <dirent.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <string_view>
#include <unordered_map>

#include "guest/agent/kernel_functions.h"
#include "guest/agent/kernel_task_cache.h"
#include "guest/agent/process_functions.h"
#include "sys/perf_ring.h"
#include "sys/tracefs.h"
#include "vtrace/guest_abi.h"

namespace vtrace::guest {

using sys::EventField;
using sys::EventFormat;
using sys::online_cpu_list;
using sys::open_cpu_event;
using sys::parse_sample;
using sys::perf_error_message;
using sys::PerfRing;
using sys::SampleLayout;
using sys::SampleView;
using sys::Tracefs;
using sys::tracepoint_attr;

namespace {

constexpr size_t kMaxRecordsPerRing = 8192;  // per poll, so one poll stays bounded
constexpr uint64_t kRefreshNs = 1'000'000'000;
constexpr size_t kMaxStr = VTRACE_GUEST_TAIL_SIZE - 1;  // what a record's tail holds
constexpr int kMaxArgs = 10;
constexpr uint32_t kDeadTask = UINT32_MAX;  // perf's pid/tid of a task past exit_notify()

// IDENTIFIER tells apart the events sharing a CPU's ring; the side-band records' sample_id
// trailer then is {pid, tid}, time, {cpu, res}, identifier.
// IP: where a profile sample interrupted (the side-band trailer has no IP: unchanged).
// CALLCHAIN: a profile sample's stacks; other events exclude both halves of it (an empty
// callchain, 8 bytes: the kernel does not unwind for them).
constexpr uint64_t kSampleType = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_IP | PERF_SAMPLE_TID |
                                 PERF_SAMPLE_TIME | PERF_SAMPLE_CPU | PERF_SAMPLE_CALLCHAIN |
                                 PERF_SAMPLE_RAW;
// x86-64: addresses from here up are the kernel's.
constexpr uint64_t kKernelSpace = 0xffff800000000000ull;
// The shortest profile period the agent samples at (10 kHz per CPU).
constexpr uint64_t kMinProfileNs = 100'000;
constexpr size_t kSampleIdLen = 32;
constexpr size_t kSampleIdTime = 24;  // from the record's end

enum class Kind : uint8_t {
  SyscallEntry,
  SyscallReturn,
  OffCpu,
  OnCpu,
  Exec,
  Exit,
  FbtEntry,
  FbtReturn,
  PidEntry,
  PidReturn,
  Profile
};

// Which tracepoint feeds a probe (a profile probe: a CPU clock sampled every period_ns).
struct Def {
  Kind kind;
  std::string system, event;
  uint64_t period_ns = 0;
  uint32_t pid = 0;                       // a pid probe's process
  ProcessFunctions::Function where = {};  // a pid probe's function
};

// A field of a tracepoint record, resolved from its format once when the event is opened.
struct Field {
  uint32_t off = 0, size = 0;
  bool present = false, is_signed = false, data_loc = false, char_array = false;
};

Field field_of(const sys::EventFormat& fmt, const char* name) {
  Field f;
  if (const sys::EventField* e = fmt.field(name)) {
    f = {e->offset, e->size, true, e->is_signed, e->data_loc, e->char_array};
  }
  return f;
}

bool int_sized(uint32_t size) {
  return size == 1 || size == 2 || size == 4 || size == 8;
}

// An integer field, sign- or zero-extended as the format says; 0 when absent or out of the record.
int64_t read_int(const Field& f, const uint8_t* d, uint32_t len) {
  if (!f.present || f.data_loc || f.char_array || !int_sized(f.size) ||
      uint64_t{f.off} + f.size > len)
    return 0;
  uint64_t v = 0;
  std::memcpy(&v, d + f.off, f.size);
  if (f.size == 8) return static_cast<int64_t>(v);
  const unsigned shift = 64 - 8 * f.size;
  return f.is_signed ? static_cast<int64_t>(v << shift) >> shift : static_cast<int64_t>(v);
}

// A char[N] or __data_loc string field (bounded by the record); empty when absent or malformed.
std::string_view read_str(const Field& f, const uint8_t* d, uint32_t len) {
  if (!f.present || uint64_t{f.off} + f.size > len) return {};
  uint32_t off = f.off, max = f.size;
  if (f.data_loc) {
    if (f.size != 4) return {};
    uint32_t loc = 0;
    std::memcpy(&loc, d + f.off, 4);
    off = loc & 0xffff;
    max = loc >> 16;
    if (uint64_t{off} + max > len) return {};
  } else if (!f.char_array) {
    return {};
  }
  const char* s = reinterpret_cast<const char*>(d + off);
  return std::string_view(s, strnlen(s, max));
}

// All or nothing: a request that adds only some of its functions would count some calls and
// not others without anyone seeing which. The VTRACE_REQ_* status of adding `n` functions (two
// probes each) to a table with `room` entries left.
uint32_t room_for_functions(size_t n, size_t room) {
  if (n > VTRACE_REQ_MAX_FUNCTIONS) return VTRACE_REQ_TOO_MANY;
  if (n * 2 > room) return VTRACE_REQ_TABLE_FULL;
  return VTRACE_REQ_OK;
}

// A string a kprobe event fetched (__data_loc): false when the kernel could not read it (it
// stores no bytes then, not even the NUL).
bool read_fetched(const Field& f, const uint8_t* d, uint32_t len, std::string& out) {
  out.clear();
  if (!f.present || !f.data_loc || f.size != 4 || uint64_t{f.off} + 4 > len) return false;
  uint32_t loc = 0;
  std::memcpy(&loc, d + f.off, 4);
  const uint32_t off = loc & 0xffff, n = loc >> 16;
  if (n == 0 || uint64_t{off} + n > len) return false;
  const char* s = reinterpret_cast<const char*>(d + off);
  out.assign(s, strnlen(s, n));
  return true;
}

std::string_view basename_of(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace

struct KernelEvents::Impl {
  // One open tracepoint: its event on each CPU (records go to that CPU's ring) and the enabled
  // probes it feeds, in probe order.
  struct Tp {
    std::string key;
    std::vector<std::pair<uint32_t, Kind>> probes;
    std::vector<Field> args;  // syscall entry arguments
    Field ret, prev_comm, prev_pid, next_comm, next_pid, filename, comm, group_dead;
    std::vector<sys::PerfRing> events;
    std::vector<uint64_t> ids;
    // What the host asked of its probes (VTRACE_GEN_*): the string argument str_arg points to
    // (read by the kernel into `str`; -1: none) and callchains.
    int str_arg = -1;
    Field str;
    bool stacks = false;
    uint32_t only_pid = 0;   // a uprobe fires in every process mapping its file: keep this one's
    bool no_kstack = false;  // stacks asked, but the event has no kernel stack to give
  };
  // A record read from a ring, waiting to be sorted and emitted. tp is null for side-band
  // records (COMM, FORK, EXIT). Bytes (the raw tracepoint record, or the side-band body without
  // its trailer) are at arena[off, off + len).
  struct Pending {
    uint64_t time;
    Tp* tp;
    uint32_t type, cpu, pid, tid;
    size_t off;
    uint32_t len;
    uint64_t ip = 0;
    uint32_t chain_len = 0;  // callchain u64s in the arena after the raw data
    size_t bytes() const { return len + size_t{chain_len} * 8; }
  };

  sys::Tracefs fs;
  KernelFunctions functions;
  ProcessFunctions process_functions;
  std::set<std::string> pid_made;  // "PID\nPATH\nOFFSET" of the functions with pid probes
  uint32_t pid_events = 0;         // uprobe events named so far
  SyscallKprobes syscall_kprobes;
  std::set<std::string> fbt_made;  // functions with fbt probes
  bool inited = false;
  std::vector<KernelProbe> probes;
  std::vector<Def> defs;
  GuestTsc tsc;
  size_t ring_pages = 64;

  std::vector<uint32_t> cpus;
  std::vector<sys::PerfRing> rings;  // per CPU: a dummy event owning the ring, with side-band on
  std::map<std::string, std::unique_ptr<Tp>> open;
  // Closed tracepoints whose records may still sit in the rings: kept until the rings drain.
  std::vector<std::unique_ptr<Tp>> retired;
  std::unordered_map<uint64_t, Tp*> by_id;

  std::vector<Pending> pending, held;
  std::vector<uint8_t> arena, held_arena;
  SymbolServer* symbols = nullptr;
  KernelTaskCache tasks;
  KernelEvent ev;
  uint64_t lost_closed = 0, malformed = 0, last_tsc = 0, watermark = 0;

  std::string init();
  void add_probe(const char* provider, const std::string& function, const char* name,
                 uint16_t nargs, uint16_t flags, Kind kind, const std::string& sys,
                 const std::string& event);
  std::string apply(const std::vector<uint8_t>& enabled);
  bool exclude_self = false;
  std::string self_filter;  // excludes the agent's own threads from every tracepoint
  std::string open_rings();
  std::string open_tp(const std::string& key, const Def& def,
                      std::vector<std::pair<uint32_t, Kind>> ps, uint8_t wants);
  std::string open_profile(const std::string& key, const Def& def,
                           std::vector<std::pair<uint32_t, Kind>> ps);
  void retire(std::unique_ptr<Tp> tp);
  void close_all();
  size_t poll(const std::function<void(const KernelEvent&)>& emit);
  void read_ring(sys::PerfRing& ring, uint64_t& cutoff);
  void side_band(const Pending& p);
  size_t emit_sample(const Pending& p, const std::function<void(const KernelEvent&)>& emit);
};

void KernelEvents::Impl::add_probe(const char* provider, const std::string& function,
                                   const char* name, uint16_t nargs, uint16_t flags, Kind kind,
                                   const std::string& sys, const std::string& event) {
  if (!fs.exists(sys, event)) return;
  probes.push_back({provider, "", function, name, nargs, flags});
  defs.push_back({kind, sys, event});
}

std::string KernelEvents::Impl::init() {
  if (inited) return "";
  std::string err;
  if (!fs.open(err)) return err;
  if (!tsc.calibrated()) tsc.calibrate();
  std::set<std::string> syscalls;
  for (const auto& [sys, ev] : fs.events()) {
    if (sys != "syscalls") continue;
    if (ev.rfind("sys_enter_", 0) == 0) syscalls.insert(ev.substr(10));
    if (ev.rfind("sys_exit_", 0) == 0) syscalls.insert(ev.substr(9));
  }
  for (const std::string& name : syscalls) {
    // nargs: the tracepoint's integer arguments (the D program sees them as arg0..).
    uint16_t nargs = 6;
    std::string ferr;
    if (const sys::EventFormat* fmt = fs.format("syscalls", "sys_enter_" + name, ferr)) {
      nargs = 0;
      for (const sys::EventField* f : fmt->args())
        if (!f->is_string() && int_sized(f->size) && nargs < kMaxArgs) ++nargs;
    }
    add_probe("syscall", name, "entry", nargs, 0, Kind::SyscallEntry, "syscalls",
              "sys_enter_" + name);
    add_probe("syscall", name, "return", 2, 0, Kind::SyscallReturn, "syscalls", "sys_exit_" + name);
  }
  // off-cpu before on-cpu: one sched_switch emits them in this order.
  add_probe("sched", "", "off-cpu", 2, 0, Kind::OffCpu, "sched", "sched_switch");
  add_probe("sched", "", "on-cpu", 2, 0, Kind::OnCpu, "sched", "sched_switch");
  add_probe("proc", "", "exec", 1, VTRACE_DESC_STR0, Kind::Exec, "sched", "sched_process_exec");
  add_probe("proc", "", "exit", 1, 0, Kind::Exit, "sched", "sched_process_exit");
  functions.open(fs.root());
  syscall_kprobes.open(fs.root());
  process_functions.open(fs.root());
  inited = true;
  return "";
}

// "common_pid != T1 && common_pid != T2 ...": every thread of this process (tracepoints'
// common_pid is the thread id).
std::string own_threads_filter() {
  std::string filter;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      filter += (filter.empty() ? "common_pid != " : " && common_pid != ") + std::string(e->d_name);
    }
    closedir(d);
  }
  return filter;
}

std::string KernelEvents::Impl::apply(const std::vector<uint8_t>& enabled) {
  self_filter = exclude_self ? own_threads_filter() : "";
  std::map<std::string, std::vector<std::pair<uint32_t, Kind>>> want;
  std::map<std::string, uint32_t> first;  // a probe of each wanted tracepoint (for its Def)
  std::map<std::string, uint8_t> wants;   // what its probes need read when it fires
  for (uint32_t i = 0; i < probes.size() && i < enabled.size(); ++i) {
    if ((enabled[i] & VTRACE_GEN_ON) == 0) continue;
    uint8_t w = enabled[i] & static_cast<uint8_t>(~VTRACE_GEN_ON);
    // A string only of a syscall's entry argument (the tail is proc:::exec's own string;
    // profile samples always carry stacks).
    const int arg = VTRACE_GEN_STR_ARG(w);
    if (defs[i].kind != Kind::SyscallEntry || arg >= probes[i].nargs) w &= 0x0f;
    if (defs[i].kind == Kind::Exec || defs[i].kind == Kind::Profile) w &= ~VTRACE_GEN_STACKS;
    const std::string key =
        defs[i].system + "/" + defs[i].event + (w != 0 ? "#" + std::to_string(w) : "");
    want[key].push_back({i, defs[i].kind});
    first.try_emplace(key, i);
    wants[key] = w;
  }
  if (want.empty()) {
    close_all();
    return "";
  }
  if (rings.empty()) {
    if (std::string err = open_rings(); !err.empty()) {
      close_all();
      return err;
    }
  }
  for (auto it = open.begin(); it != open.end();) {
    if (want.count(it->first)) {
      ++it;
      continue;
    }
    retire(std::move(it->second));
    it = open.erase(it);
  }
  std::string err;
  for (auto& [key, ps] : want) {
    auto it = open.find(key);
    if (it != open.end()) {
      it->second->probes = std::move(ps);
      continue;
    }
    std::string e = open_tp(key, defs[first[key]], std::move(ps), wants[key]);
    if (err.empty()) err = e;
  }
  return err;
}

std::string KernelEvents::Impl::open_rings() {
  cpus = sys::online_cpu_list();
  // A software dummy event per CPU owns the ring (so tracepoints come and go without losing
  // it) and reports comm changes, forks and exits for the task cache.
  perf_event_attr attr = sys::tracepoint_attr(0);
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_DUMMY;
  attr.sample_type = kSampleType;
  attr.exclude_callchain_kernel = 1;
  attr.exclude_callchain_user = 1;
  sys::want_task_records(attr);
  attr.mmap = 1;  // executable mappings: what user frames are named from (SymbolServer)
  attr.disabled = 0;
  for (uint32_t cpu : cpus) {
    sys::PerfRing ring;
    if (int e = open_cpu_event(ring, attr, cpu, ring_pages, true); e != 0)
      return sys::perf_error_message(e, "guest: perf ring of cpu " + std::to_string(cpu));
    rings.push_back(std::move(ring));
  }
  return "";
}

std::string KernelEvents::Impl::open_tp(const std::string& key, const Def& def,
                                        std::vector<std::pair<uint32_t, Kind>> ps, uint8_t wants) {
  if (def.kind == Kind::Profile) return open_profile(key, def, std::move(ps));
  std::string err;
  const bool fbt = def.kind == Kind::FbtEntry || def.kind == Kind::FbtReturn;
  if (fbt) {
    // The kprobe event of fbt::FUNC:entry is "e_FUNC", of :return "r_FUNC".
    err = functions.define(def.event.substr(2), def.kind == Kind::FbtReturn);
    if (!err.empty()) return "guest: fbt: " + err;
  }
  const bool uprobe = def.kind == Kind::PidEntry || def.kind == Kind::PidReturn;
  if (uprobe) {
    err = process_functions.define(def.where, def.event, def.kind == Kind::PidReturn);
    if (!err.empty()) return "guest: pid" + std::to_string(def.pid) + ": " + err;
  }
  const sys::EventFormat* fmt = fs.format(def.system, def.event, err);
  if (!fmt) return "guest: " + err;
  // A syscall entry whose string argument or kernel stack is wanted: the kprobe on its
  // function, in place of the tracepoint (its arguments a0.. are the tracepoint's).
  // Where that cannot be made (no kprobe events, no such function), the tracepoint without
  // them: the string is then not gathered, the kernel stack not there (the host says so), and
  // the agent's error says why.
  int str_arg = VTRACE_GEN_STR_ARG(wants);
  bool kprobe =
      def.kind == Kind::SyscallEntry && (str_arg >= 0 || (wants & VTRACE_GEN_STACKS) != 0);
  int nargs = 0;
  std::string why_not;
  if (kprobe) {
    for (const sys::EventField* f : fmt->args())
      if (!f->is_string() && int_sized(f->size)) ++nargs;
    std::string event;
    if (!syscall_kprobes.available())
      why_not = "no kprobe events";
    else
      why_not = syscall_kprobes.define(def.event.substr(std::strlen("sys_enter_")), nargs, str_arg,
                                       event);
    if (why_not.empty())
      if (const sys::EventFormat* kfmt = fs.format(SyscallKprobes::kGroup, event, why_not))
        fmt = kfmt;
    if (!why_not.empty()) {
      kprobe = false;
      str_arg = -1;
    }
  }
  auto tp = std::make_unique<Tp>();
  tp->str_arg = str_arg;
  tp->str = field_of(*fmt, SyscallKprobes::kStringField);
  tp->stacks = (wants & VTRACE_GEN_STACKS) != 0;
  // A syscall tracepoint gives perf the user's registers: no kernel frames to give.
  tp->no_kstack = tp->stacks &&
                  (def.kind == Kind::SyscallReturn || (def.kind == Kind::SyscallEntry && !kprobe));
  tp->key = key;
  tp->probes = std::move(ps);
  for (const sys::EventField* f : fmt->args())
    if (!f->is_string() && int_sized(f->size) && tp->args.size() < kMaxArgs)
      tp->args.push_back(field_of(*fmt, f->name.c_str()));
  tp->ret = field_of(*fmt, "ret");
  tp->prev_comm = field_of(*fmt, "prev_comm");
  tp->prev_pid = field_of(*fmt, "prev_pid");
  tp->next_comm = field_of(*fmt, "next_comm");
  tp->next_pid = field_of(*fmt, "next_pid");
  tp->filename = field_of(*fmt, "filename");
  tp->comm = field_of(*fmt, "comm");
  tp->group_dead = field_of(*fmt, "group_dead");
  if (kprobe) {  // the fetch arguments SyscallKprobes::define() named
    tp->args.clear();
    for (int i = 0; i < nargs; ++i)
      tp->args.push_back(field_of(*fmt, SyscallKprobes::arg_field(i).c_str()));
  }
  if (fbt || uprobe) {  // the fetch arguments KernelFunctions/ProcessFunctions::define() named
    tp->args.clear();
    const bool entry = def.kind == Kind::FbtEntry || def.kind == Kind::PidEntry;
    for (int i = 0; i < KernelFunctions::kEntryArgs && entry; ++i)
      tp->args.push_back(field_of(*fmt, ("arg" + std::to_string(i)).c_str()));
    tp->ret = field_of(*fmt, "arg1");
  }
  if (uprobe) tp->only_pid = def.pid;

  perf_event_attr attr = sys::tracepoint_attr(fmt->id);
  attr.sample_type = kSampleType;
  attr.exclude_callchain_kernel = tp->stacks ? 0 : 1;  // no stacks: an empty callchain
  attr.exclude_callchain_user = tp->stacks ? 0 : 1;
  if (tp->stacks) attr.sample_max_stack = VTRACE_GUEST_MAX_FRAMES;
  for (size_t c = 0; c < cpus.size(); ++c) {
    const std::string what = "guest: perf_event_open of tracepoint " + def.system + ":" +
                             def.event + " on cpu " + std::to_string(cpus[c]);
    sys::PerfRing ev;
    uint64_t id = 0;
    int e = open_cpu_event(ev, attr, cpus[c], 0, true);
    if (e == 0 && (e = ev.redirect_to(rings[c])) != 0) err = " (PERF_EVENT_IOC_SET_OUTPUT)";
    if (e == 0 && (e = ev.event_id(id)) != 0) err = " (PERF_EVENT_IOC_ID)";
    // The agent's own system calls would trace themselves: each relayed event makes more.
    // Best effort: a kernel without tracepoint filters just sends them.
    if (e == 0 && !self_filter.empty())
      ioctl(ev.fd(), PERF_EVENT_IOC_SET_FILTER, self_filter.c_str());
    if (e == 0 && (e = ev.enable()) != 0) err = " (PERF_EVENT_IOC_ENABLE)";
    if (e != 0) {
      for (uint64_t done : tp->ids) by_id.erase(done);
      return sys::perf_error_message(e, what + err);
    }
    tp->events.push_back(std::move(ev));
    tp->ids.push_back(id);
    by_id[id] = tp.get();
  }
  open.emplace(key, std::move(tp));
  // Opened, without what the kprobe would have read: said (the host reports the rest).
  return why_not.empty() ? "" : "guest: " + def.event + " without copyinstr()/stack(): " + why_not;
}

std::string KernelEvents::Impl::open_profile(const std::string& key, const Def& def,
                                             std::vector<std::pair<uint32_t, Kind>> ps) {
  auto tp = std::make_unique<Tp>();
  tp->key = key;
  tp->probes = std::move(ps);
  tp->stacks = true;  // a sample always carries its callchains
  perf_event_attr attr = sys::tracepoint_attr(0);
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_CPU_CLOCK;
  attr.sample_period = def.period_ns;  // the CPU clock counts nanoseconds
  attr.sample_type = kSampleType;      // RAW: an empty record (the layout stays one per ring)
  attr.exclude_callchain_kernel = 0;
  attr.exclude_callchain_user = 0;
  attr.sample_max_stack = VTRACE_GUEST_MAX_FRAMES;
  for (size_t c = 0; c < cpus.size(); ++c) {
    sys::PerfRing ev;
    uint64_t id = 0;
    std::string err;
    int e = open_cpu_event(ev, attr, cpus[c], 0, true);
    if (e == 0 && (e = ev.redirect_to(rings[c])) != 0) err = " (PERF_EVENT_IOC_SET_OUTPUT)";
    if (e == 0 && (e = ev.event_id(id)) != 0) err = " (PERF_EVENT_IOC_ID)";
    if (e == 0 && (e = ev.enable()) != 0) err = " (PERF_EVENT_IOC_ENABLE)";
    if (e != 0) {
      for (uint64_t done : tp->ids) by_id.erase(done);
      return sys::perf_error_message(e, "guest: perf_event_open of the CPU clock (" + def.event +
                                            ") on cpu " + std::to_string(cpus[c]) + err);
    }
    tp->events.push_back(std::move(ev));
    tp->ids.push_back(id);
    by_id[id] = tp.get();
  }
  open.emplace(key, std::move(tp));
  return "";
}

void KernelEvents::Impl::retire(std::unique_ptr<Tp> tp) {
  for (sys::PerfRing& e : tp->events) e.disable();
  tp->events.clear();  // no new records; those in the rings are still emitted
  retired.push_back(std::move(tp));
}

void KernelEvents::Impl::close_all() {
  // Disabled by the host: what the rings still hold is dropped with them.
  open.clear();
  retired.clear();
  by_id.clear();
  for (const sys::PerfRing& r : rings) lost_closed += r.stats().lost;
  rings.clear();
  cpus.clear();
  pending.clear();
  arena.clear();
  tasks.clear();
}

void KernelEvents::Impl::read_ring(sys::PerfRing& ring, uint64_t& cutoff) {
  const sys::SampleLayout layout{kSampleType, 0};
  uint64_t newest = 0;
  size_t n = ring.read_all(
      [&](uint32_t type, const uint8_t* body, size_t len) {
        if (type == PERF_RECORD_COMM || type == PERF_RECORD_FORK || type == PERF_RECORD_EXIT ||
            type == PERF_RECORD_MMAP) {
          if (len < kSampleIdLen + 8) {
            ++malformed;
            return;
          }
          uint64_t time = 0;
          std::memcpy(&time, body + len - kSampleIdTime, 8);
          const uint32_t blen = static_cast<uint32_t>(len - kSampleIdLen);
          pending.push_back({time, nullptr, type, 0, 0, 0, arena.size(), blen});
          arena.insert(arena.end(), body, body + blen);
          newest = std::max(newest, time);
          return;
        }
        if (type != PERF_RECORD_SAMPLE) return;
        sys::SampleView s;
        auto it = by_id.end();
        if (!sys::parse_sample(body, len, layout, s) || (it = by_id.find(s.id)) == by_id.end()) {
          ++malformed;
          return;
        }
        const uint32_t chain = static_cast<uint32_t>(s.callchain_nr);
        pending.push_back({s.time, it->second, PERF_RECORD_SAMPLE, s.cpu, s.pid, s.tid,
                           arena.size(), s.raw_size, s.ip, chain});
        arena.insert(arena.end(), s.raw, s.raw + s.raw_size);
        arena.insert(arena.end(), s.callchain, s.callchain + size_t{chain} * 8);
        newest = std::max(newest, s.time);
      },
      kMaxRecordsPerRing);
  // A ring read only in part may hold older records than other rings' newest: emit nothing
  // after what was read of it.
  if (n >= kMaxRecordsPerRing) cutoff = std::min(cutoff, newest);
}

void KernelEvents::Impl::side_band(const Pending& p) {
  const uint8_t* b = arena.data() + p.off;
  uint32_t v[4] = {};
  std::memcpy(v, b, std::min<size_t>(p.len, p.type == PERF_RECORD_COMM ? 8 : 16));
  if (p.type == PERF_RECORD_MMAP) {
    // {pid, tid, addr, len, pgoff, filename}: an executable mapping (attr.mmap)
    uint64_t a[3] = {};
    if (p.len <= 32 || symbols == nullptr) return;
    std::memcpy(a, b + 8, sizeof a);
    const char* name = reinterpret_cast<const char*>(b + 32);
    symbols->on_mmap(v[0], a[0], a[1], a[2], std::string(name, strnlen(name, p.len - 32)));
  } else if (p.type == PERF_RECORD_COMM) {
    tasks.on_comm(v[0], v[1], std::string_view(reinterpret_cast<const char*>(b + 8), p.len - 8));
    if (symbols != nullptr) symbols->on_comm(v[0]);  // an exec: a new image
  } else if (p.len >= 16 && p.type == PERF_RECORD_FORK) {
    tasks.on_fork(v[0], v[2], v[3]);                                       // {pid, ppid, tid, ptid}
    if (symbols != nullptr && v[0] != v[1]) symbols->on_fork(v[0], v[1]);  // a new process
  } else if (p.len >= 16) {
    tasks.on_exit(v[2]);
    if (symbols != nullptr && v[0] == v[2]) symbols->on_exit(v[0]);
  }
}

size_t KernelEvents::Impl::emit_sample(const Pending& p,
                                       const std::function<void(const KernelEvent&)>& emit) {
  const Tp& tp = *p.tp;
  const uint8_t* d = arena.data() + p.off;
  const uint32_t len = p.len;
  if (tp.only_pid != 0 && p.pid != tp.only_pid) return 0;  // another process ran the code
  // Clamped: a refresh() may move the map by its measurement error; the stream stays ordered.
  const uint64_t t = std::max(tsc.to_tsc(p.time), last_tsc);
  last_tsc = t;
  // The sample's stacks, once for every probe of the event.
  ev.kstack.clear();
  ev.ustack.clear();
  ev.image = 0;
  ev.no_kstack = false;
  if (tp.stacks) {
    sys::split_callchain(d + len, p.chain_len, ev.kstack, ev.ustack);
    ev.no_kstack = tp.no_kstack;
    if (symbols != nullptr && !ev.ustack.empty())
      ev.image = symbols->name_user(p.pid, ev.ustack.data(), ev.ustack.size());
  }
  size_t n = 0;
  for (const auto& [probe, kind] : tp.probes) {
    ev.probe = probe;
    ev.pid = p.pid;
    ev.tid = p.tid;
    ev.cpu = p.cpu;
    ev.tsc = t;
    ev.nargs = probes[probe].nargs;
    std::fill(std::begin(ev.args), std::end(ev.args), 0);
    std::memset(ev.comm, 0, sizeof(ev.comm));
    ev.str.clear();
    ev.str_arg = -1;
    ev.str_read = false;
    switch (kind) {
      case Kind::SyscallEntry:
        for (size_t i = 0; i < tp.args.size(); ++i) ev.args[i] = read_int(tp.args[i], d, len);
        std::memcpy(ev.comm, tasks.get(p.tid, p.pid).comm, sizeof(ev.comm));
        if (tp.str_arg >= 0) {
          ev.str_arg = tp.str_arg;
          ev.str_read = read_fetched(tp.str, d, len, ev.str);
        }
        break;
      case Kind::SyscallReturn:
        // As dtrace: arg0 and arg1 are both the return value (the host derives errno).
        ev.args[0] = ev.args[1] = read_int(tp.ret, d, len);
        std::memcpy(ev.comm, tasks.get(p.tid, p.pid).comm, sizeof(ev.comm));
        break;
      case Kind::OffCpu: {
        // A task switched out for the last time is no longer alive: perf reports it as -1.
        ev.tid = static_cast<uint32_t>(read_int(tp.prev_pid, d, len));
        if (ev.pid == kDeadTask) ev.pid = tasks.get(ev.tid, 0).pid;
        set_comm(ev.comm, read_str(tp.prev_comm, d, len));
        const uint32_t next = static_cast<uint32_t>(read_int(tp.next_pid, d, len));
        ev.args[0] = next;
        ev.args[1] = tasks.get(next, 0).pid;
        break;
      }
      case Kind::OnCpu: {
        const uint32_t next = static_cast<uint32_t>(read_int(tp.next_pid, d, len));
        ev.tid = next;
        ev.pid = tasks.get(next, 0).pid;
        set_comm(ev.comm, read_str(tp.next_comm, d, len));
        ev.args[0] = read_int(tp.prev_pid, d, len);
        ev.args[1] = p.pid;
        break;
      }
      case Kind::Exec: {
        std::string_view path = read_str(tp.filename, d, len);
        ev.str.assign(path.substr(0, kMaxStr));
        // The kernel names the task after the file it executes (begin_new_exec).
        set_comm(ev.comm, basename_of(path));
        tasks.on_comm(p.pid, p.tid, ev.comm);
        break;
      }
      case Kind::FbtEntry:
      case Kind::PidEntry:
        for (size_t i = 0; i < tp.args.size(); ++i) ev.args[i] = read_int(tp.args[i], d, len);
        std::memcpy(ev.comm, tasks.get(p.tid, p.pid).comm, sizeof(ev.comm));
        break;
      case Kind::Profile:
        // As dtrace: arg0 the kernel PC, arg1 the user PC (the other 0).
        ev.args[p.ip >= kKernelSpace ? 0 : 1] = static_cast<int64_t>(p.ip);
        std::memcpy(ev.comm, tasks.get(p.tid, p.pid).comm, sizeof(ev.comm));
        break;
      case Kind::FbtReturn:
      case Kind::PidReturn:
        ev.args[1] = read_int(tp.ret, d, len);  // arg0 unknown: the host says so (see .h)
        std::memcpy(ev.comm, tasks.get(p.tid, p.pid).comm, sizeof(ev.comm));
        break;
      case Kind::Exit:
        // sched_process_exit fires per thread; proc:::exit is the process's, when its last
        // thread exits (group_dead, since Linux 6.6), else when its main thread does.
        if (tp.group_dead.present ? read_int(tp.group_dead, d, len) == 0 : p.pid != p.tid) continue;
        set_comm(ev.comm, read_str(tp.comm, d, len));
        break;
    }
    emit(ev);
    ++n;
  }
  return n;
}

size_t KernelEvents::Impl::poll(const std::function<void(const KernelEvent&)>& emit) {
  if (rings.empty()) return 0;
  const uint64_t start = GuestTsc::mono_ns();
  if (start - tsc.anchor_ns() >= kRefreshNs) tsc.refresh();
  // Records stamped after `start` may still be on their way into rings read earlier: they wait
  // for the next poll, so the stream stays time-ordered across CPUs and polls.
  uint64_t cutoff = start;
  for (sys::PerfRing& ring : rings) read_ring(ring, cutoff);
  std::stable_sort(pending.begin(), pending.end(),
                   [](const Pending& a, const Pending& b) { return a.time < b.time; });
  const auto split = std::upper_bound(pending.begin(), pending.end(), cutoff,
                                      [](uint64_t t, const Pending& p) { return t < p.time; });
  size_t n = 0;
  for (auto it = pending.begin(); it != split; ++it) {
    if (it->tp)
      n += emit_sample(*it, emit);
    else
      side_band(*it);
  }
  watermark = std::max(watermark, std::max(tsc.to_tsc(cutoff), last_tsc));
  // Keep the held records (and their bytes) for the next poll.
  held.assign(split, pending.end());
  held_arena.clear();
  for (Pending& p : held) {
    const size_t off = held_arena.size();
    held_arena.insert(held_arena.end(), arena.begin() + static_cast<ptrdiff_t>(p.off),
                      arena.begin() + static_cast<ptrdiff_t>(p.off + p.bytes()));
    p.off = off;
  }
  pending.swap(held);
  arena.swap(held_arena);
  if (!retired.empty() && pending.empty() &&
      std::all_of(rings.begin(), rings.end(),
                  [](const sys::PerfRing& r) { return r.pending() == 0; })) {
    for (const auto& tp : retired)
      for (uint64_t id : tp->ids) by_id.erase(id);
    retired.clear();
  }
  return n;
}

KernelEvents::KernelEvents() : impl_(std::make_unique<Impl>()) {}
KernelEvents::~KernelEvents() {
  impl_->close_all();
}

std::string KernelEvents::init() {
  return impl_->init();
}

const std::vector<KernelProbe>& KernelEvents::probes() const {
  return impl_->probes;
}

void KernelEvents::set_symbols(SymbolServer* symbols) {
  impl_->symbols = symbols;
}

void KernelEvents::exclude_own_threads(bool on) {
  impl_->exclude_self = on;
}

std::vector<uint32_t> KernelEvents::add_profile(const std::string& name, uint64_t period_ns,
                                                size_t room, uint32_t& matched, uint32_t& status) {
  Impl& m = *impl_;
  std::vector<uint32_t> added;
  matched = 0;
  status = VTRACE_REQ_OK;
  if (!m.inited) {
    status = VTRACE_REQ_UNSUPPORTED;
    return added;
  }
  bool named = name.rfind("profile-", 0) == 0 && name.size() > 8 && name.size() < 32;
  for (char c : name) named = named && c > 0x20 && c < 0x7f && c != ':';
  if (!named || period_ns < kMinProfileNs) {
    status = VTRACE_REQ_BAD;
    return added;
  }
  matched = 1;
  for (const KernelProbe& p : m.probes)
    if (p.provider == "profile" && p.name == name) return added;
  if (room < 1) {
    status = VTRACE_REQ_TABLE_FULL;
    return added;
  }
  added.push_back(static_cast<uint32_t>(m.probes.size()));
  m.probes.push_back({"profile", "", "", name, 2, VTRACE_GPROBE_STACKS});
  m.defs.push_back({Kind::Profile, "profile", name, period_ns});
  return added;
}

std::vector<uint32_t> KernelEvents::add_fbt(const std::string& module_glob, const std::string& glob,
                                            size_t room, uint32_t& matched, uint32_t& status) {
  Impl& m = *impl_;
  std::vector<uint32_t> added;
  matched = 0;
  status = VTRACE_REQ_OK;
  if (!m.inited || !m.functions.available()) {
    status = VTRACE_REQ_UNSUPPORTED;
    return added;
  }
  std::vector<KernelFunctions::Function> fresh;
  for (KernelFunctions::Function& fn : m.functions.match(module_glob, glob)) {
    ++matched;
    if (!m.fbt_made.count(fn.name)) fresh.push_back(std::move(fn));
  }
  if ((status = room_for_functions(fresh.size(), room)) != VTRACE_REQ_OK) return added;
  for (const KernelFunctions::Function& fn : fresh) {
    const std::string& f = fn.name;
    m.fbt_made.insert(f);
    for (bool ret : {false, true}) {
      added.push_back(static_cast<uint32_t>(m.probes.size()));
      m.probes.push_back({"fbt", fn.module, f, ret ? "return" : "entry",
                          static_cast<uint16_t>(ret ? 2 : KernelFunctions::kEntryArgs), 0});
      m.defs.push_back({ret ? Kind::FbtReturn : Kind::FbtEntry, KernelFunctions::kGroup,
                        KernelFunctions::event_name(f, ret)});
    }
  }
  return added;
}

std::vector<uint32_t> KernelEvents::add_pid(uint32_t pid, const std::string& module_glob,
                                            const std::string& glob, size_t room, uint32_t& matched,
                                            uint32_t& status) {
  Impl& m = *impl_;
  std::vector<uint32_t> added;
  matched = 0;
  status = VTRACE_REQ_OK;
  if (!m.inited || !m.process_functions.available()) {
    status = VTRACE_REQ_UNSUPPORTED;
    return added;
  }
  std::vector<ProcessFunctions::Function> found;
  if (pid == 0 ||
      !m.process_functions.match(static_cast<pid_t>(pid), module_glob, glob, found).empty()) {
    status = VTRACE_REQ_NO_PROCESS;
    return added;
  }
  std::vector<ProcessFunctions::Function> fresh;
  std::vector<std::string> keys;  // their pid_made keys
  for (ProcessFunctions::Function& f : found) {
    ++matched;
    std::string key = std::to_string(pid) + "\n" + f.path + "\n" + std::to_string(f.offset);
    if (m.pid_made.count(key)) continue;
    fresh.push_back(std::move(f));
    keys.push_back(std::move(key));
  }
  if ((status = room_for_functions(fresh.size(), room)) != VTRACE_REQ_OK) return added;
  const std::string provider = "pid" + std::to_string(pid);
  m.pid_made.insert(keys.begin(), keys.end());
  for (const ProcessFunctions::Function& f : fresh) {
    for (bool ret : {false, true}) {
      added.push_back(static_cast<uint32_t>(m.probes.size()));
      m.probes.push_back({provider, f.module, f.name, ret ? "return" : "entry",
                          static_cast<uint16_t>(ret ? 2 : ProcessFunctions::kEntryArgs), 0});
      Def d{ret ? Kind::PidReturn : Kind::PidEntry, ProcessFunctions::kGroup,
            (ret ? "r" : "e") + std::to_string(++m.pid_events)};
      d.pid = pid;
      d.where = f;
      m.defs.push_back(std::move(d));
    }
  }
  return added;
}

std::string KernelEvents::apply(const std::vector<uint8_t>& enabled) {
  return impl_->apply(enabled);
}

size_t KernelEvents::poll(const std::function<void(const KernelEvent&)>& emit) {
  return impl_->poll(emit);
}

uint64_t KernelEvents::lost() const {
  uint64_t n = impl_->lost_closed;
  for (const sys::PerfRing& r : impl_->rings) n += r.stats().lost;
  return n;
}

uint64_t KernelEvents::watermark() const {
  return impl_->watermark;
}

uint64_t KernelEvents::malformed() const {
  uint64_t n = impl_->malformed;
  for (const sys::PerfRing& r : impl_->rings) n += r.stats().malformed;
  return n;
}

void KernelEvents::set_ring_pages(size_t pages) {
  if (pages != 0 && (pages & (pages - 1)) == 0) impl_->ring_pages = pages;
}

const GuestTsc& KernelEvents::clock() const {
  return impl_->tsc;
}

}  // namespace vtrace::guest
