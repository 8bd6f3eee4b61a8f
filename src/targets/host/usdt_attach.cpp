// Attaching USDT probes: uprobe perf events (the "uprobe" PMU: config1 = path, config2 = file
// offset, config[63:32] = the semaphore's file offset, which the kernel then counts in every
// process mapping the file), their rings, and the decoding of samples into records.
#include <dirent.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>

#include "targets/host/usdt_target.h"

namespace vtrace::targets::host {

namespace {

constexpr size_t kRingPages = 256;     // 1 MiB per thread (or CPU) ring
constexpr uint32_t kStackBytes = 512;  // user stack copied per sample, for memory operands
constexpr size_t kMaxCommCache = 65536;

int uprobe_pmu_type() {
  std::ifstream in("/sys/bus/event_source/devices/uprobe/type");
  int t = -1;
  if (!(in >> t)) return -1;
  return t;
}

std::vector<pid_t> threads_of(pid_t pid) {
  std::vector<pid_t> tids;
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      char* end = nullptr;
      long t = std::strtol(e->d_name, &end, 10);
      if (end != e->d_name && *end == '\0' && t > 0) tids.push_back(static_cast<pid_t>(t));
    }
    closedir(d);
  }
  if (tids.empty()) tids.push_back(pid);
  return tids;
}

std::vector<int> online_cpus() {
  std::vector<int> cpus;
  long n = sysconf(_SC_NPROCESSORS_CONF);
  for (long i = 0; i < n && i < 4096; ++i) {
    std::ifstream in("/sys/devices/system/cpu/cpu" + std::to_string(i) + "/online");
    int on = 1;
    if (in) in >> on;  // cpu0 often has no "online" file
    if (on) cpus.push_back(static_cast<int>(i));
  }
  return cpus;
}

std::string hex(uint64_t v) {
  char b[32];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

}  // namespace

bool UsdtTargets::open_event(size_t site, const std::vector<uint32_t>& ids, pid_t proc, pid_t tid,
                             int cpu, uint32_t target_index, std::string& error) {
  const UsdtSite& s = sites_[site];
  perf_event_attr a;
  std::memset(&a, 0, sizeof a);
  if (site_tp_[site] != 0) {
    a.type = PERF_TYPE_TRACEPOINT;
    a.config = site_tp_[site];
  } else {
    // The uprobe PMU: its config1 is a path in this process, which the kernel reads again when
    // it copies the event into a forked child — from the child's memory. So no inherit here.
    a.type = static_cast<uint32_t>(pmu_type_);
    a.config = s.ref_ctr_offset << 32;
    a.config1 = reinterpret_cast<uint64_t>(s.path.c_str());
    a.config2 = s.offset;
  }
  a.sample_period = 1;
  a.sample_type = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU |
                  PERF_SAMPLE_REGS_USER;
  a.sample_regs_user = usdt_regs_mask(s.args) | (uint64_t{1} << kRegSp) | (uint64_t{1} << kRegIp);
  if (usdt_reads_memory(s.args)) {
    a.sample_type |= PERF_SAMPLE_STACK_USER;
    a.sample_stack_user = kStackBytes;
  }
  a.use_clockid = 1;
  a.clockid = CLOCK_MONOTONIC;
  a.inherit = proc > 0 && site_tp_[site] != 0 ? 1 : 0;  // later threads and children fire too
  auto ev = std::make_unique<Event>();
  ev->site = site;
  ev->pid = proc;
  ev->cpu = cpu;
  ev->target_index = target_index;
  ev->probe_ids = ids;
  ev->layout = SampleLayout::of(a);
  const std::string what = "uprobe " + s.path + ":" + hex(s.offset);
  // One ring per CPU, shared by every event on it (an inherited event cannot have a ring of its
  // own per thread: the kernel allows mmap of inherited events only per CPU).
  auto it = ring_of_.find(cpu);
  int err;
  if (it != ring_of_.end()) {
    err = ev->perf.open(a, proc > 0 ? tid : -1, cpu, 0);
    if (err == 0 && ev->perf.redirect_to(it->second->perf) != 0) {
      ev->perf.close();
      err = ev->perf.open(a, proc > 0 ? tid : -1, cpu, kRingPages);  // a ring of its own
      if (err == 0) rings_.push_back(ev.get());
    }
  } else {
    err = ev->perf.open(a, proc > 0 ? tid : -1, cpu, kRingPages);
    if (err == 0) {
      ring_of_[cpu] = ev.get();
      rings_.push_back(ev.get());
    }
  }
  if (err == ESRCH && proc > 0) return true;  // the thread has exited meanwhile
  if (err != 0) {
    error = perf_error_message(err, what);
    return false;
  }
  uint64_t id = 0;
  if ((err = ev->perf.event_id(id)) != 0) {
    error = perf_error_message(err, what + " (PERF_EVENT_IOC_ID)");
    return false;
  }
  by_sample_id_[id] = ev.get();
  events_.push_back(std::move(ev));
  return true;
}

bool UsdtTargets::enable(const std::vector<uint32_t>& enabled, std::string& error) {
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
  if (pmu_type_ < 0) pmu_type_ = uprobe_pmu_type();
  if (pmu_type_ < 0) {
    error =
        "uprobes are not available: /sys/bus/event_source/devices/uprobe/type is missing (a "
        "kernel built with CONFIG_UPROBE_EVENTS is needed)";
    return false;
  }
  const std::vector<int> cpus = online_cpus();
  site_tp_.resize(sites_.size(), 0);
  for (const auto& [key, g] : groups) create_tracefs_uprobe(key.first);
  for (const auto& [key, g] : groups) {
    const auto [site, pid] = key;
    if (pid > 0) {
      for (pid_t tid : threads_of(pid))
        for (int cpu : cpus)
          if (!open_event(site, g.first, pid, tid, cpu, g.second, error)) return false;
    } else {
      for (int cpu : cpus)
        if (!open_event(site, g.first, 0, -1, cpu, 0, error)) return false;
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
  }
  const UsdtSite& s = sites_[site];
  if (s.path.find_first_of(" \t\n:") != std::string::npos) return;
  std::string event = "s" + std::to_string(site);
  std::string def = "p:" + group_ + "/" + event + " " + s.path + ":" + hex(s.offset);
  if (s.ref_ctr_offset != 0) def += "(" + hex(s.ref_ctr_offset) + ")";
  if (!write_uprobe_events(def)) return;
  created_.push_back(event);
  std::ifstream in(tracefs_root_ + "/events/" + group_ + "/" + event + "/id");
  uint64_t id = 0;
  if (in >> id) site_tp_[site] = id;
}

bool UsdtTargets::write_uprobe_events(const std::string& line) {
  int fd = ::open((tracefs_root_ + "/uprobe_events").c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return false;
  std::string l = line + "\n";
  bool ok = ::write(fd, l.data(), l.size()) == static_cast<ssize_t>(l.size());
  ::close(fd);
  return ok;
}

void UsdtTargets::fill_execname(Record& rec) {
  auto it = comm_cache_.find(rec.tid);
  if (it == comm_cache_.end()) {
    if (comm_cache_.size() >= kMaxCommCache) comm_cache_.clear();
    std::string comm;
    std::ifstream in("/proc/" + std::to_string(rec.pid) + "/task/" + std::to_string(rec.tid) +
                     "/comm");
    if (!std::getline(in, comm)) {
      for (const auto& p : procs_)
        if (p->pid == rec.pid) comm = p->comm;
    }
    it = comm_cache_.emplace(rec.tid, comm.substr(0, kExecnameLen - 1)).first;
  }
  std::memcpy(rec.execname, it->second.c_str(), it->second.size() + 1);
}

void UsdtTargets::decode(const uint8_t* body, size_t len,
                         const std::function<void(const Record&)>& run) {
  uint64_t id = 0;
  if (len < 8) {
    ++stats_.malformed;
    return;
  }
  std::memcpy(&id, body, 8);
  auto it = by_sample_id_.find(id);
  if (it == by_sample_id_.end()) {
    ++stats_.malformed;
    return;
  }
  const Event& ev = *it->second;
  SampleView v;
  if (!parse_sample(body, len, ev.layout, v)) {
    ++stats_.malformed;
    return;
  }
  ++stats_.samples;
  UsdtSampleRegs regs;
  if (v.regs_abi != PERF_SAMPLE_REGS_ABI_NONE) {
    uint32_t i = 0;
    for (uint32_t r = 0; r < kRegCount; ++r) {
      if ((ev.layout.regs_user_mask & (uint64_t{1} << r)) == 0) continue;
      regs.regs[r] = v.reg(i++);
      regs.valid |= uint64_t{1} << r;
    }
  }
  regs.stack = v.stack;
  regs.stack_size = v.stack_dyn_size;
  regs.pid = static_cast<pid_t>(v.pid);
  Record rec;
  rec.target = ev.target_index;
  rec.pid = static_cast<int32_t>(v.pid);
  rec.tid = static_cast<int32_t>(v.tid);
  rec.cpu = static_cast<int32_t>(v.cpu);
  rec.timestamp = rec.raw_timestamp = v.time;
  const UsdtSite& site = sites_[ev.site];
  for (size_t i = 0; i < site.args.size() && i < static_cast<size_t>(kRecordArgs); ++i)
    rec.args[i] = eval_usdt_arg(site.args[i], regs, stats_.eval);
  fill_execname(rec);
  for (uint32_t probe : ev.probe_ids) {
    rec.probe = probe;
    run(rec);
  }
}

size_t UsdtTargets::poll(const std::function<void(const Record&)>& run, size_t max_per_ring) {
  size_t n = 0;
  for (Event* r : rings_)
    n += r->perf.read([&](const uint8_t* body, size_t len) { decode(body, len, run); },
                      max_per_ring);
  return n;
}

void UsdtTargets::shutdown() {
  for (Event* r : rings_) {
    stats_.lost += r->perf.stats().lost;
    stats_.malformed += r->perf.stats().malformed;
  }
  rings_.clear();
  ring_of_.clear();
  by_sample_id_.clear();
  // Redirected events first, ring owners last.
  for (auto it = events_.rbegin(); it != events_.rend(); ++it) (*it)->perf.close();
  events_.clear();
  for (const auto& e : created_) write_uprobe_events("-:" + group_ + "/" + e);
  created_.clear();
  std::fill(site_tp_.begin(), site_tp_.end(), 0);
}

void UsdtTargets::report(std::FILE* err) const {
  uint64_t lost = stats_.lost, malformed = stats_.malformed;
  for (const Event* r : rings_) {
    lost += r->perf.stats().lost;
    malformed += r->perf.stats().malformed;
  }
  if (lost > 0)
    std::fprintf(err, "vtrace: usdt: %llu event%s lost (perf ring full)\n",
                 static_cast<unsigned long long>(lost), lost == 1 ? "" : "s");
  if (malformed > 0)
    std::fprintf(err, "vtrace: usdt: %llu malformed sample%s dropped\n",
                 static_cast<unsigned long long>(malformed), malformed == 1 ? "" : "s");
  const auto& e = stats_.eval;
  if (e.failed_reads > 0 || e.missing_regs > 0)
    std::fprintf(err, "vtrace: usdt: %llu argument%s could not be read (value 0)\n",
                 static_cast<unsigned long long>(e.failed_reads + e.missing_regs),
                 e.failed_reads + e.missing_regs == 1 ? "" : "s");
}

}  // namespace vtrace::targets::host
