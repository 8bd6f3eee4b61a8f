// Attaching USDT probes: a uprobe perf event per (site, process) (the "uprobe" PMU: config1 =
// path, config2 = file offset, config[63:32] = the semaphore's file offset, which the kernel then
// counts in every process mapping the file; or a uprobe trace event, which forked children
// inherit) carrying a BPF program that gathers the probe's arguments, strings and stacks at the
// probe (bpf/usdt_program.h), and the records it writes turned into vtrace::Records.
#include <asm/ptrace.h>  // struct pt_regs: what a uprobe's BPF program gets as ctx
#include <fcntl.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>

#include "bpf/attach.h"
#include "bpf/gather_program.h"
#include "bpf/usdt_program.h"
#include "sys/process_memory.h"
#include "targets/host/usdt_target.h"

namespace vtrace::targets::host {

namespace {

int uprobe_pmu_type() {
  std::ifstream in("/sys/bus/event_source/devices/uprobe/type");
  int t = -1;
  if (!(in >> t)) return -1;
  return t;
}

std::string hex(uint64_t v) {
  char b[32];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

// The pt_regs offset of an x86 perf register number, or -1.
int16_t regs_offset(uint8_t r) {
  switch (r) {
    case kRegAx:
      return offsetof(pt_regs, rax);
    case kRegBx:
      return offsetof(pt_regs, rbx);
    case kRegCx:
      return offsetof(pt_regs, rcx);
    case kRegDx:
      return offsetof(pt_regs, rdx);
    case kRegSi:
      return offsetof(pt_regs, rsi);
    case kRegDi:
      return offsetof(pt_regs, rdi);
    case kRegBp:
      return offsetof(pt_regs, rbp);
    case kRegSp:
      return offsetof(pt_regs, rsp);
    case kRegIp:
      return offsetof(pt_regs, rip);
    case kRegR8:
      return offsetof(pt_regs, r8);
    case kRegR9:
      return offsetof(pt_regs, r9);
    case kRegR10:
      return offsetof(pt_regs, r10);
    case kRegR11:
      return offsetof(pt_regs, r11);
    case kRegR12:
      return offsetof(pt_regs, r12);
    case kRegR13:
      return offsetof(pt_regs, r13);
    case kRegR14:
      return offsetof(pt_regs, r14);
    case kRegR15:
      return offsetof(pt_regs, r15);
    default:
      return -1;
  }
}

// Whether the probe cannot evaluate an operand: a symbol the binary's symbol table did not
// resolve (a stripped binary), a register a uprobe does not save.
bool unreadable(const UsdtArg& a) {
  if (a.kind == UsdtArg::Kind::Imm) return false;
  return !a.symbol.empty() || (a.reg != kRegNone && regs_offset(a.reg) < 0) ||
         (a.index != kRegNone && regs_offset(a.index) < 0);
}

// The arguments of a site its probe cannot read, as Record::unread_args bits (all of them when
// its argument spec did not parse).
uint16_t unread_args(const UsdtSite& s) {
  if (!s.args_ok) return static_cast<uint16_t>((1u << kRecordArgs) - 1);
  uint16_t bits = s.unknown_args;
  for (size_t i = 0; i < s.args.size() && i < static_cast<size_t>(kRecordArgs); ++i)
    if (unreadable(s.args[i])) bits = static_cast<uint16_t>(bits | (1u << i));
  return bits;
}

// A site's arguments as its BPF program evaluates them. An operand it cannot evaluate reads 0
// there, and its records say so (unread_args): a clause reading it faults.
std::vector<bpf::RegArg> reg_args(const UsdtSite& s) {
  std::vector<bpf::RegArg> out;
  for (size_t i = 0; i < s.args.size() && i < bpf::kUsdtArgs; ++i) {
    const UsdtArg& a = s.args[i];
    bpf::RegArg r;
    r.size = a.size;
    r.is_signed = a.is_signed;
    r.value = a.value;
    r.scale = a.scale;
    r.shift = a.shift;
    r.reg = a.reg == kRegNone ? -1 : regs_offset(a.reg);
    r.index = a.index == kRegNone ? -1 : regs_offset(a.index);
    if (a.kind == UsdtArg::Kind::Imm) {
      r.kind = bpf::RegArg::Imm;
    } else if (unreadable(a)) {
      r = bpf::RegArg{};  // Imm 0
    } else {
      r.kind = a.kind == UsdtArg::Kind::Reg ? bpf::RegArg::Reg : bpf::RegArg::Mem;
    }
    out.push_back(r);
  }
  return out;
}

// Argument i of a site as its programs read it: the int64 at 8 i of the arguments the program
// evaluated (the gather record's data, or a clause program's stack); 0 beyond them.
std::optional<bpf::ExprOp> usdt_arg(int64_t i) {
  bpf::ExprOp o;  // Const 0
  if (i < 0 || i >= static_cast<int64_t>(bpf::kUsdtArgs)) return o;
  o.kind = bpf::ExprOp::Field;
  o.offset = static_cast<uint32_t>(8 * i);
  o.size = 8;
  o.is_signed = true;
  return o;
}

// How many bytes from addr lie in a mapping of process pid nobody can write to (text, constants:
// what the probe saw is still there); 0 when addr is in a writable mapping, or none.
uint64_t read_only_span(pid_t pid, uint64_t addr) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  for (std::string line; std::getline(maps, line);) {
    unsigned long long start = 0, end = 0;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%llx-%llx %4s", &start, &end, perms) != 3) continue;
    if (addr < start || addr >= end) continue;
    return perms[0] == 'r' && perms[1] != 'w' ? end - addr : 0;
  }
  return 0;
}

// The NUL-terminated string of at most `max` bytes at addr in process pid, or false. Only from
// a read-only mapping: a page the probe could not read there has not changed since; a writable
// one may have, and its string is reported as not gathered rather than read late.
bool read_late(pid_t pid, uint64_t addr, uint32_t max, std::string& out) {
  const uint64_t span = read_only_span(pid, addr);
  if (span == 0) return false;
  max = static_cast<uint32_t>(std::min<uint64_t>(max, span));
  out.resize(size_t{max} + 1);
  const size_t n =
      sys::read_process_memory(pid, addr, out.data(), std::min<uint64_t>(out.size(), span), true);
  const size_t len = strnlen(out.data(), std::min<size_t>(n, max));
  if (n == 0 || (len == n && n < max)) return false;  // unreadable before the NUL
  out.resize(len);
  return true;
}

}  // namespace

bool UsdtTargets::open_source(Source& src, const bpf::KernelLayout& layout, std::string& error) {
  const UsdtSite& s = sites_[src.site];
  const std::string what = "uprobe " + s.path + ":" + hex(s.offset);
  bpf::GatherSource how;
  how.usdt = reg_args(s);
  how.usdt_pid = static_cast<uint32_t>(src.pid);
  std::string err;
  src.prog = bpf::load_gather_program(src.plan, layout, ring_->ring_fd(), ring_->drops_fd(), what,
                                      err, how);
  if (!src.prog.valid()) {
    error = err;
    return false;
  }
  return open_event(src.site, src.pid, src.prog.get(), src.event, error);
}

bool UsdtTargets::open_event(size_t site, pid_t pid, int prog, sys::PerfRing& event,
                             std::string& error) {
  const UsdtSite& s = sites_[site];
  const std::string what = "uprobe " + s.path + ":" + hex(s.offset);
  perf_event_attr a;
  std::memset(&a, 0, sizeof a);
  if (site_tp_[site] != 0) {
    a.type = PERF_TYPE_TRACEPOINT;
    a.config = site_tp_[site];
  } else {
    // The uprobe PMU: its config1 is a path in this process, which the kernel reads again when
    // it copies the event into a forked child — from the child's memory. So no inherit here.
    a.type = static_cast<uint32_t>(pmu_type_);
    a.config = s.ref_ctr_offset << 32 | (s.retprobe ? 1u : 0u);  // format/retprobe: config:0
    a.config1 = reinterpret_cast<uint64_t>(s.path.c_str());
    a.config2 = s.offset;
  }
  a.sample_period = 1;
  a.disabled = 1;
  // One event decides which processes the site's uprobe fires in: the process (the kernel
  // filters by its memory map, so every thread) and, inherited, the children it forks; or every
  // process. The program records; the event itself records nothing (it has no ring).
  a.inherit = pid > 0 && site_tp_[site] != 0 ? 1 : 0;
  int e = event.open(a, pid > 0 ? pid : -1, pid > 0 ? -1 : 0, 0);
  if (e == ESRCH && pid > 0) return true;  // the process has exited meanwhile
  if (e != 0) {
    error = sys::perf_error_message(e, what);
    return false;
  }
  return bpf::attach_perf_event(event.fd(), prog, what, error);
}

bool UsdtTargets::prepare(std::string& error) {
  if (geteuid() != 0) {
    error = "usdt: probes run BPF programs on uprobes, which needs root (CAP_BPF, CAP_PERFMON)";
    return false;
  }
  if (pmu_type_ < 0) pmu_type_ = uprobe_pmu_type();
  if (pmu_type_ < 0) {
    error =
        "uprobes are not available: /sys/bus/event_source/devices/uprobe/type is missing (a "
        "kernel built with CONFIG_UPROBE_EVENTS is needed)";
    return false;
  }
  if (!layout_) {
    std::string why;
    layout_ = bpf::read_kernel_layout(why);
    if (!layout_) {
      error = "usdt: probes need the kernel's BTF: " + why;
      return false;
    }
  }
  site_tp_.resize(sites_.size(), 0);
  return true;
}

bool UsdtTargets::clause_sites(uint32_t id, std::vector<ClauseSite>& out, std::string& why) const {
  out.clear();
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return false;
  const UsdtProbe& p = probes_[it->second];
  for (size_t site : p.sites) {
    const UsdtSite& s = sites_[site];
    std::vector<bpf::RegArg> args = reg_args(s);
    std::string err;
    if (!s.args_ok || (unread_args(s) & ~s.unknown_args) != 0 || !bpf::check_usdt_args(args, err)) {
      why = "an argument of a site of it cannot be read from the registers";
      return false;
    }
    ClauseSite c;
    c.site = site;
    c.pid = p.pid;
    // An argument the site does not have keeps a clause that reads it in vtrace, where reading
    // it faults.
    const uint16_t unknown = s.unknown_args;
    c.target.arg = [unknown](int64_t i) -> std::optional<bpf::ExprOp> {
      if (i >= 0 && i < 16 && ((unknown >> i) & 1) != 0) return std::nullopt;
      return usdt_arg(i);
    };
    c.target.probe_id = id;
    bpf::ClauseTarget::Usdt u;
    u.args = std::move(args);
    u.pid = static_cast<uint32_t>(p.pid);
    c.target.usdt = std::move(u);  // the layout is set when the program is loaded
    out.push_back(std::move(c));
  }
  return true;
}

bool UsdtTargets::attach_clause(size_t site, pid_t pid, int prog, sys::PerfRing& event,
                                std::string& error) {
  if (!prepare(error)) return false;
  create_tracefs_uprobe(site);
  return open_event(site, pid, prog, event, error);
}

bool UsdtTargets::enable(const std::vector<uint32_t>& enabled, const NeedsFn& needs,
                         uint64_t bufsize, uint32_t strsize, std::string& error) {
  // (site, process) -> the enabled catalog probes it fires.
  std::map<std::pair<size_t, pid_t>, std::pair<std::vector<uint32_t>, uint32_t>> groups;
  for (uint32_t id : enabled) {
    auto it = by_id_.find(id);
    if (it == by_id_.end()) continue;
    const UsdtProbe& p = probes_[it->second];
    for (size_t site : p.sites) {
      auto& g = groups[{site, p.pid}];
      g.first.push_back(id);
      g.second = p.target_index;
    }
  }
  if (groups.empty()) return true;
  if (!prepare(error)) return false;
  const bpf::KernelLayout& layout = *layout_;
  std::string why;
  ring_ = bpf::GatherRing::create(bufsize, why);
  if (!ring_) {
    error = "usdt: " + why;
    return false;
  }
  for (const auto& [key, g] : groups) create_tracefs_uprobe(key.first);
  const auto arg = usdt_arg;
  for (const auto& [key, g] : groups) {
    auto src = std::make_unique<Source>();
    src->site = key.first;
    src->pid = key.second;
    src->probe_ids = g.first;
    src->target_index = g.second;
    bpf::ClauseNeeds all;
    for (uint32_t id : g.first) {
      bpf::ClauseNeeds n = needs ? needs(id) : bpf::ClauseNeeds{};
      bpf::ClauseNeeds resolved;
      for (bpf::StringCopy c : n.strings)
        if (bpf::resolve_args(c.addr, arg) && bpf::resolve_args(c.len, arg))
          resolved.strings.push_back(std::move(c));
      resolved.kernel_frames = n.kernel_frames;
      resolved.user_frames = n.user_frames;
      all.merge(resolved);
    }
    src->plan.probe = static_cast<uint32_t>(sources_.size());
    src->plan.data_size = bpf::kUsdtDataSize;
    src->plan.strsize = strsize;
    src->plan.strings = std::move(all.strings);
    src->plan.kernel_frames = all.kernel_frames;
    src->plan.user_frames = all.user_frames;
    sources_.push_back(std::move(src));
    if (!open_source(*sources_.back(), layout, error)) {
      shutdown();
      return false;
    }
  }
  return true;
}

// A uprobe trace event for a site ("p:vtrace_usdt_PID/sN PATH:0xOFF(0xSEM)" in uprobe_events):
// unlike the uprobe PMU, its perf events can be inherited by forked children. On failure the
// site stays on the PMU (site_tp_ 0).
void UsdtTargets::create_tracefs_uprobe(size_t site) {
  if (site_tp_[site] != 0 || tracefs_failed_) return;
  if (tracefs_root_.empty()) {
    for (const char* d : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}) {
      if (access((std::string(d) + "/uprobe_events").c_str(), W_OK) == 0) {
        tracefs_root_ = d;
        break;
      }
    }
    if (tracefs_root_.empty()) {
      tracefs_failed_ = true;
      return;
    }
    group_ = "vtrace_usdt_" + std::to_string(getpid());
    sweep_stale_uprobes();
  }
  const UsdtSite& s = sites_[site];
  if (s.path.find_first_of(" \t\n:") != std::string::npos) return;
  std::string event = "s" + std::to_string(site);
  std::string def = std::string(s.retprobe ? "r:" : "p:") + group_ + "/" + event + " " + s.path +
                    ":" + hex(s.offset);
  if (s.ref_ctr_offset != 0) def += "(" + hex(s.ref_ctr_offset) + ")";
  if (!write_uprobe_events(def)) return;
  created_.push_back(event);
  std::ifstream in(tracefs_root_ + "/events/" + group_ + "/" + event + "/id");
  uint64_t id = 0;
  if (in >> id) site_tp_[site] = id;
}

// Events a vtrace that was killed (SIGKILL: no shutdown()) left in uprobe_events: its group
// names its pid, and a group whose vtrace is gone is removed, so nothing piles up in tracefs.
void UsdtTargets::sweep_stale_uprobes() {
  std::ifstream in(tracefs_root_ + "/uprobe_events");
  std::vector<std::string> stale;
  for (std::string line; std::getline(in, line);) {
    // "p:vtrace_usdt_PID/sN /path:0x..."
    const size_t at = line.find(":vtrace_usdt_");
    const size_t slash = line.find('/', at == std::string::npos ? 0 : at);
    const size_t space = line.find(' ', slash == std::string::npos ? 0 : slash);
    if (at == std::string::npos || slash == std::string::npos || space == std::string::npos)
      continue;
    const std::string pid = line.substr(at + 13, slash - at - 13);
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    if (kill(static_cast<pid_t>(std::stol(pid)), 0) == 0 || errno != ESRCH) continue;
    stale.push_back(line.substr(at + 1, space - at - 1));  // "vtrace_usdt_PID/sN"
  }
  for (const std::string& e : stale) write_uprobe_events("-:" + e);
}

bool UsdtTargets::write_uprobe_events(const std::string& line) {
  int fd = ::open((tracefs_root_ + "/uprobe_events").c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return false;
  std::string l = line + "\n";
  bool ok = ::write(fd, l.data(), l.size()) == static_cast<ssize_t>(l.size());
  ::close(fd);
  return ok;
}

void UsdtTargets::emit(uint32_t source, const uint8_t* bytes, size_t len, RecordSink& sink) {
  if (source >= sources_.size() ||
      !bpf::parse_gather_record(bytes, len, sources_[source]->plan, view_) ||
      view_.data_len != bpf::kUsdtDataSize) {
    ++stats_.malformed;
    return;
  }
  ++stats_.samples;
  const Source& src = *sources_[source];
  Record rec;
  rec.target = src.target_index;
  context_.fill(rec, view_, src.plan.kernel_frames > 0, src.plan.user_frames > 0);
  const size_t n = std::min(sites_[src.site].args.size(), static_cast<size_t>(kRecordArgs));
  for (size_t i = 0; i < n; ++i) std::memcpy(&rec.args[i], view_.data + 8 * i, 8);
  rec.unread_args = unread_args(sites_[src.site]);
  late_.resize(view_.strings.size());
  for (size_t i = 0; i < view_.strings.size(); ++i) {
    CopiedString& c = context_.copy(i);
    // A page the process never touched (a string constant of a fresh binary) is not in memory,
    // and BPF cannot fault it in: read it now if nobody can have written it since (read_late).
    if (c.len < 0 && !c.bytes && read_late(rec.pid, c.addr, c.max, late_[i]))
      c = CopiedString{c.addr, c.max, static_cast<int32_t>(late_[i].size()), late_[i].data()};
  }
  for (uint32_t probe : src.probe_ids) {
    if (sink.closed()) return;
    rec.probe = probe;
    sink.deliver(rec);
  }
}

size_t UsdtTargets::poll(RecordSink& sink, uint64_t now_ns) {
  if (!ring_) return 0;
  std::string err;
  // A BPF ring hands over what waits at once (its size bounds a round).
  watermark_ = std::max(watermark_, settled_before(now_ns));
  // The ring's records are valid during the callback only: each is emitted at once.
  long got = ring_->consume(
      [&](const uint8_t* bytes, size_t len) {
        bpf::GatherHeader h;
        if (len < sizeof h) {
          ++stats_.malformed;
          return;
        }
        std::memcpy(&h, bytes, sizeof h);
        emit(h.probe, bytes, len, sink);
      },
      err);
  return got > 0 ? static_cast<size_t>(got) : 0;
}

void UsdtTargets::drain(RecordSink& sink) {
  // Samples taken before the events close still count.
  for (int i = 0; i < 1000 && !sink.closed() && poll(sink, UINT64_MAX) > 0; ++i) {
  }
  shutdown();
}

void UsdtTargets::shutdown() {
  if (ring_) {
    std::string err;
    for (uint64_t d : ring_->drops(err)) stats_.lost += d;
  }
  sources_.clear();  // closing the events detaches the programs
  ring_.reset();
  for (const auto& e : created_) write_uprobe_events("-:" + group_ + "/" + e);
  created_.clear();
  std::fill(site_tp_.begin(), site_tp_.end(), 0);
}

void UsdtTargets::report(std::FILE* err) const {
  uint64_t lost = stats_.lost;
  if (ring_) {
    std::string e;
    for (uint64_t d : ring_->drops(e)) lost += d;
  }
  if (lost > 0)
    std::fprintf(err, "vtrace: usdt: %llu event%s lost (BPF ring full)\n",
                 static_cast<unsigned long long>(lost), lost == 1 ? "" : "s");
  if (stats_.malformed > 0)
    std::fprintf(err, "vtrace: usdt: %llu malformed record%s dropped\n",
                 static_cast<unsigned long long>(stats_.malformed),
                 stats_.malformed == 1 ? "" : "s");
}

}  // namespace vtrace::targets::host
