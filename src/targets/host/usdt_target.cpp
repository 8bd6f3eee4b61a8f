// Discovery and catalog registration of USDT probes (attaching is in usdt_attach.cpp).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "engine/engine.h"
#include "engine/glob.h"
#include "lang/source.h"
#include "targets/host/function_probes.h"
#include "targets/host/usdt_target.h"

namespace vtrace::targets::host {

namespace {

std::string basename_of(const std::string& path) {
  size_t s = path.rfind('/');
  return s == std::string::npos ? path : path.substr(s + 1);
}

std::string read_comm(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string s;
  std::getline(in, s);
  return s;
}

bool is_file(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// An offset probe has no arguments (DTrace's have none either): reading one faults.
constexpr uint16_t kAllArgs = (1u << kRecordArgs) - 1;

// A description that would place more uprobes than this is refused.
constexpr size_t kMaxFunctionProbes = 20000;

bool has_glob(const std::string& s) {
  return s.find_first_of("*?[\\") != std::string::npos;
}

// A library the dynamic loader would find for DT_NEEDED `name` (run path, LD_LIBRARY_PATH, the
// Debian multiarch and default directories). "" when not found.
std::string find_library(const std::string& name, const UsdtFile& from) {
  if (name.find('/') != std::string::npos) return is_file(name) ? name : "";
  std::vector<std::string> dirs;
  std::string origin =
      from.path.substr(0, from.path.rfind('/') == std::string::npos ? 0 : from.path.rfind('/'));
  for (std::string d : from.runpath) {
    size_t o = d.find("$ORIGIN");
    if (o != std::string::npos) d.replace(o, 7, origin);
    dirs.push_back(d);
  }
  if (const char* llp = std::getenv("LD_LIBRARY_PATH")) {
    std::stringstream ss(llp);
    std::string d;
    while (std::getline(ss, d, ':'))
      if (!d.empty()) dirs.push_back(d);
  }
  for (const char* d : {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64",
                        "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib"})
    dirs.push_back(d);
  for (const auto& d : dirs) {
    std::string p = d + "/" + name;
    if (is_file(p)) return p;
  }
  return "";
}

}  // namespace

UsdtTargets::UsdtTargets() = default;
UsdtTargets::~UsdtTargets() {
  shutdown();
}

const UsdtStats& UsdtTargets::stats() const {
  return stats_;
}

size_t UsdtTargets::add_site(const std::string& path, const UsdtNote& n) {
  for (size_t i = 0; i < sites_.size(); ++i)
    if (sites_[i].offset == n.pc_offset && sites_[i].path == path && !sites_[i].retprobe) return i;
  UsdtSite s;
  s.path = path;
  s.offset = n.pc_offset;
  s.ref_ctr_offset = n.semaphore_offset;
  std::string err;
  s.args_ok = parse_usdt_args(n.args, s.args, err, kRecordArgs);
  if (!s.args_ok) {
    s.args.clear();
    ++stats_.bad_specs;
  }
  for (auto& a : s.args) {
    if (a.symbol.empty()) continue;
    for (const auto& [name, addr] : n.symbols)
      if (name == a.symbol) resolve_usdt_symbol(a, addr, n.pc);
  }
  sites_.push_back(std::move(s));
  return sites_.size() - 1;
}

void UsdtTargets::add_file(Proc& proc, const UsdtFile& file, engine::Catalog& catalog) {
  const std::string module = basename_of(file.path);
  // One catalog probe per (provider, function, name): a probe inlined at several places of a
  // function has several sites.
  std::map<std::tuple<std::string, std::string, std::string>, size_t> seen;
  for (const auto& n : file.notes) {
    auto key = std::make_tuple(n.provider, n.function, n.name);
    auto it = seen.find(key);
    size_t pi;
    if (it == seen.end()) {
      UsdtProbe p;
      p.id = catalog.add(proc.target, n.provider, module, n.function, n.name, proc.comm);
      p.pid = proc.pid;
      p.target_index = proc.index;
      pi = probes_.size();
      by_id_[p.id] = pi;
      probes_.push_back(std::move(p));
      proc.ids.push_back(probes_[pi].id);
      seen.emplace(key, pi);
      proc.notes.push_back({n.provider, module, n.function, n.name, pi});
    } else {
      pi = it->second;
    }
    size_t site = add_site(file.path, n);
    auto& sites = probes_[pi].sites;
    if (std::find(sites.begin(), sites.end(), site) == sites.end()) sites.push_back(site);
  }
}

UsdtTargets::Proc& UsdtTargets::new_proc(pid_t pid) {
  auto p = std::make_unique<Proc>();
  p->pid = pid;
  p->index = static_cast<uint32_t>(1000 + procs_.size());
  p->target = "pid" + std::to_string(pid);
  p->comm = read_comm(pid);
  procs_.push_back(std::move(p));
  return *procs_.back();
}

bool UsdtTargets::add_process(pid_t pid, engine::Catalog& catalog, std::string& error) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  if (!maps) {
    error = "pid " + std::to_string(pid) + ": no such process (cannot read its maps)";
    return false;
  }
  std::vector<std::string> files;
  std::string line;
  while (std::getline(maps, line)) {
    size_t slash = line.find('/');
    if (slash == std::string::npos) continue;
    std::string path = line.substr(slash);
    if (path.size() > 10 && path.compare(path.size() - 10, 10, " (deleted)") == 0) continue;
    if (std::find(files.begin(), files.end(), path) == files.end()) files.push_back(path);
  }
  Proc& proc = new_proc(pid);
  // The executable first (its functions are the pid provider's "a.out").
  char exe[4096];
  const ssize_t n =
      readlink(("/proc/" + std::to_string(pid) + "/exe").c_str(), exe, sizeof exe - 1);
  if (n > 0) {
    const std::string path(exe, static_cast<size_t>(n));
    auto it = std::find(files.begin(), files.end(), path);
    if (it != files.end()) std::rotate(files.begin(), it, it + 1);
  }
  proc.objects = files;
  for (const auto& path : files) {
    UsdtFile f;
    std::string err;
    if (!read_usdt_file(path, f, err, true)) continue;  // not ELF, no notes, unreadable
    add_file(proc, f, catalog);
  }
  return true;
}

bool UsdtTargets::add_command(pid_t pid, const std::string& path, engine::Catalog& catalog,
                              std::string& error) {
  Proc& proc = new_proc(pid);
  proc.comm = basename_of(path).substr(0, kExecnameLen - 1);
  // The program and, breadth first, the libraries it needs.
  std::vector<std::string> todo{path};
  std::set<std::string> done;
  for (size_t i = 0; i < todo.size() && i < 256; ++i) {
    if (!done.insert(todo[i]).second) continue;
    UsdtFile f;
    std::string err;
    if (!read_usdt_file(todo[i], f, err, false)) {
      if (i == 0) {
        error = err;
        return false;
      }
      continue;
    }
    if (!f.notes.empty()) add_file(proc, f, catalog);
    proc.objects.push_back(todo[i]);
    for (const auto& n : f.needed) {
      std::string lib = find_library(n, f);
      if (!lib.empty()) {
        char real[4096];
        if (realpath(lib.c_str(), real) != nullptr) lib = real;
        todo.push_back(lib);
      }
    }
  }
  return true;
}

bool UsdtTargets::has_process(pid_t pid) const {
  for (const auto& p : procs_)
    if (p->pid == pid) return true;
  return false;
}

std::vector<uint32_t> UsdtTargets::probe_ids(pid_t pid) const {
  for (const auto& p : procs_)
    if (p->pid == pid) return p->ids;
  return {};
}

void UsdtTargets::install_on_demand(engine::Catalog& catalog) {
  catalog.add_on_demand(
      [this](const bytecode::ProbeSpec& spec, engine::Catalog& c) { on_demand(spec, c); });
}

// The pid provider: "pidN" (what pid$target becomes), never a glob.
void UsdtTargets::add_function_probes(const bytecode::ProbeSpec& spec, pid_t pid,
                                      engine::Catalog& catalog) {
  Proc* proc = nullptr;
  for (auto& p : procs_)
    if (p->pid == pid) proc = p.get();
  std::string err;
  if (proc == nullptr) {  // a process neither -p nor -c named: DTrace grabs it too
    if (!add_process(pid, catalog, err)) throw lang::CompileError(err);
    proc = procs_.back().get();
  }
  std::vector<FunctionSite> found;
  if (!find_functions(proc->objects, spec.module, spec.function, kMaxFunctionProbes, symbols_,
                      found, err))
    throw lang::CompileError("probe description " + spec.text + ": " + err);
  // One probe of function f named `name` (entry, return, an offset) at `site`, once per run.
  auto add = [&](const FunctionSite& f, const std::string& name, uint64_t at, bool retprobe,
                 bool inside) {
    const std::string key = f.path + " " + std::to_string(f.offset) + " " + f.function + " " + name;
    if (!proc->functions.insert(key).second) return;
    UsdtProbe p;
    p.id = catalog.add(proc->target, spec.provider, f.module, f.function, name, proc->comm);
    catalog.set_module_aliases(p.id, f.module_aliases);
    p.pid = proc->pid;
    p.target_index = proc->index;
    p.sites.push_back(add_function_site(f.path, at, retprobe, inside));
    by_id_[p.id] = probes_.size();
    proc->ids.push_back(p.id);
    probes_.push_back(std::move(p));
  };
  // pidN:MOD:FUNC:OFFSET: the instruction at that hexadecimal offset (no glob, no arguments).
  if (!spec.name.empty() &&
      spec.name.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos) {
    const uint64_t off = std::strtoull(spec.name.c_str(), nullptr, 16);
    char name[24];
    std::snprintf(name, sizeof name, "%llx", static_cast<unsigned long long>(off));
    for (const FunctionSite& f : found) {
      std::vector<uint64_t> starts;
      if (!instruction_offsets(f, starts, err))
        throw lang::CompileError("probe description " + spec.text + ": " + err);
      if (std::find(starts.begin(), starts.end(), off) == starts.end()) {
        if (spec.function.empty() || has_glob(spec.function)) continue;
        throw lang::CompileError("probe description " + spec.text + ": offset 0x" + name +
                                 " is not the start of an instruction of " + f.function);
      }
      add(f, name, f.offset + off, false, true);
    }
    return;
  }
  for (const FunctionSite& f : found)
    for (const char* kind : {"entry", "return"})
      if (spec.name.empty() || engine::glob_match(spec.name, kind))
        add(f, kind, f.offset, kind[0] == 'r', false);
}

size_t UsdtTargets::add_function_site(const std::string& path, uint64_t offset, bool retprobe,
                                      bool inside) {
  for (size_t i = 0; i < sites_.size(); ++i)
    if (sites_[i].offset == offset && sites_[i].path == path && sites_[i].retprobe == retprobe &&
        sites_[i].ref_ctr_offset == 0 && (sites_[i].unknown_args == kAllArgs) == inside)
      return i;
  // The System V calling convention: six arguments in registers, the rest on the stack above
  // the return address; a function returns its value in %rax.
  static const char* const kEntry =
      "8@%rdi 8@%rsi 8@%rdx 8@%rcx 8@%r8 8@%r9 8@8(%rsp) 8@16(%rsp) 8@24(%rsp) 8@32(%rsp)";
  static const char* const kReturn = "8@$0 8@%rax";
  UsdtSite s;
  s.path = path;
  s.offset = offset;
  s.retprobe = retprobe;
  std::string err;
  s.args_ok = parse_usdt_args(retprobe ? kReturn : kEntry, s.args, err, kRecordArgs);
  s.unknown_args = inside ? kAllArgs : retprobe ? 1 : 0;  // inside a function: no arguments
  sites_.push_back(std::move(s));
  return sites_.size() - 1;
}

void UsdtTargets::on_demand(const bytecode::ProbeSpec& spec, engine::Catalog& catalog) {
  if (spec.provider.size() > 3 && spec.provider.compare(0, 3, "pid") == 0 &&
      spec.provider.find_first_not_of("0123456789", 3) == std::string::npos) {
    const long pid = std::strtol(spec.provider.c_str() + 3, nullptr, 10);
    // A host process's: not when the description names another target (a guest's pid).
    const bool host = spec.target.empty() || engine::glob_match(spec.target, "host") ||
                      engine::glob_match(spec.target, spec.provider);
    if (host && pid > 0 && pid <= INT32_MAX)
      add_function_probes(spec, static_cast<pid_t>(pid), catalog);
    return;
  }
  // DTrace's "PROVIDERpid": the probes of a traced process under that provider name.
  if (!spec.provider.empty() && !has_glob(spec.provider) && spec.provider != "usdt") {
    for (auto& proc : procs_) {
      const std::string suffix = std::to_string(proc->pid);
      if (spec.provider.size() <= suffix.size() ||
          spec.provider.compare(spec.provider.size() - suffix.size(), suffix.size(), suffix) != 0)
        continue;
      const std::string prov = spec.provider.substr(0, spec.provider.size() - suffix.size());
      if (!proc->suffixed.insert(prov).second) continue;
      for (const auto& n : proc->notes) {
        if (n.provider != prov) continue;
        UsdtProbe p = probes_[n.probe];
        p.id = catalog.add(proc->target, spec.provider, n.module, n.function, n.name, proc->comm);
        by_id_[p.id] = probes_.size();
        proc->ids.push_back(p.id);
        probes_.push_back(std::move(p));
      }
    }
  }
  // bpftrace's "usdt:/path/to/bin:provider:name" (provider usdt, the path as the module).
  if (spec.provider != "usdt" || spec.module.empty() || spec.module[0] != '/') return;
  if (std::find(paths_done_.begin(), paths_done_.end(), spec.module) != paths_done_.end()) return;
  paths_done_.push_back(spec.module);
  UsdtFile f;
  std::string err;
  if (!read_usdt_file(spec.module, f, err, true)) throw lang::CompileError(err);
  for (const auto& n : f.notes) {
    UsdtProbe* probe = nullptr;
    for (auto& p : probes_) {
      const auto& info = catalog.probe(p.id);
      if (p.pid == 0 && info.module == spec.module && info.function == n.provider &&
          (info.name == n.name || info.name == n.raw_name))
        probe = &p;
    }
    if (probe == nullptr) {
      // bpftrace names the probe as the note does ("query__start"); D with a dash.
      bool raw = !spec.name.empty() && spec.name.find("__") != std::string::npos;
      UsdtProbe p;
      p.id = catalog.add("host", "usdt", spec.module, n.provider, raw ? n.raw_name : n.name);
      by_id_[p.id] = probes_.size();
      probes_.push_back(std::move(p));
      probe = &probes_.back();
    }
    size_t site = add_site(f.path, n);
    if (std::find(probe->sites.begin(), probe->sites.end(), site) == probe->sites.end())
      probe->sites.push_back(site);
  }
}

bool UsdtTargets::enable(const EnableRequest& req, std::string& error) {
  const engine::Options& o = req.engine->options();
  return enable(req.gathered, req.needs, o.bufsize, static_cast<uint32_t>(o.strsize), error);
}

}  // namespace vtrace::targets::host
