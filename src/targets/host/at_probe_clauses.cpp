#include "targets/host/at_probe_clauses.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <algorithm>

#include "bpf/attach.h"
#include "bpf/program.h"
#include "bytecode/placement.h"
#include "engine/engine.h"

namespace vtrace::targets::host {

namespace {

constexpr uint32_t kMinMapEntries = 1024;
constexpr uint32_t kMaxMapEntries = 1u << 20;
constexpr uint64_t kDynvarEntryBytes = 64;  // a hash map entry of two u64s, with its overhead
constexpr uint32_t kMinVarEntries = 16;

}  // namespace

void AtProbeClauses::plan(engine::Engine& eng, KernelProbes& kernel, UsdtTargets& usdt,
                          const std::vector<uint32_t>& enabled) {
  usdt_ = &usdt;
  const bytecode::Module& mod = eng.module();
  // The probes each clause is enabled on.
  std::vector<std::vector<uint32_t>> probes_of(mod.clauses.size());
  for (uint32_t id : enabled)
    for (uint32_t c : eng.clauses_on(id)) probes_of[c].push_back(id);
  std::vector<std::vector<Site>> sites_of(mod.clauses.size());
  const std::vector<std::string> why =
      bytecode::place_clauses(mod, [&](uint32_t c, const bytecode::Kept& kept) {
        if (probes_of[c].empty()) return std::string("it is enabled on no probe");
        sites_of[c].clear();
        for (uint32_t id : probes_of[c]) {
          std::vector<Site> here(1, Site{c, id, nullptr, {}});
          if (!kernel.clause_target(id, here[0].format, here[0].target)) {
            std::vector<UsdtTargets::ClauseSite> at;
            std::string why_not;
            if (!usdt.clause_sites(id, at, why_not))
              return "it is enabled on " + eng.catalog().probe(id).full_name() + ", " +
                     (why_not.empty() ? "which is not a kernel tracepoint or USDT probe"
                                      : "where " + why_not);
            here.clear();
            for (UsdtTargets::ClauseSite& u : at)
              here.push_back(Site{c, id, nullptr, std::move(u.target), u.site, u.pid});
          }
          const engine::ProbeInfo& p = eng.catalog().probe(id);
          for (Site& s : here) {
            s.target.names = {p.provider, p.module, p.function, p.name};
            std::string reason = bpf::why_not_at_probe(mod, mod.clauses[c], s.target, kept);
            if (!reason.empty()) return reason;
            sites_of[c].push_back(std::move(s));
          }
        }
        return std::string();
      });
  placement_.assign(mod.clauses.size(), "");
  at_probe_.assign(mod.clauses.size(), false);
  sites_.clear();
  for (uint32_t c = 0; c < mod.clauses.size(); ++c) {
    at_probe_[c] = why[c].empty();
    placement_[c] = at_probe_[c] ? "runs at the probe (BPF)" : "runs in vtrace: " + why[c];
    if (at_probe_[c])
      for (Site& s : sites_of[c]) sites_.push_back(std::move(s));
  }
}

bool AtProbeClauses::start(engine::Engine& eng, uint64_t aggsize, uint64_t dynvarsize,
                           std::string& err) {
  const bytecode::Module& mod = eng.module();
  const std::vector<Site>& sites = sites_;
  const std::vector<bool>& at_probe = at_probe_;
  if (sites.empty()) return true;
  if (geteuid() != 0) {
    err = "host: kernel probes run BPF programs, which needs root (CAP_BPF and CAP_PERFMON)";
    return false;
  }
  drops_ = bpf::create_map(BPF_MAP_TYPE_PERCPU_ARRAY, "vt_drops", 4, 8, 2,
                           "the aggregation and dynamic variable drop counters", err);
  if (!drops_.valid()) return false;
  zeros_ = bpf::create_map(BPF_MAP_TYPE_ARRAY, "vt_agg_zeros", 4, bpf::kMaxKernelAggValue, 1,
                           "the aggregations' initial value", err);
  if (!zeros_.valid()) return false;
  maps_.clear();
  maps_.resize(mod.aggs.size());
  bpf::ClauseMaps fds;
  fds.aggs.assign(mod.aggs.size(), -1);
  fds.drops = drops_.get();
  fds.zeros = zeros_.get();
  fds.strings = &key_strings_;
  for (const Site& s : sites)
    for (uint32_t a : bytecode::aggregations_of(mod.clauses[s.clause])) {
      if (maps_[a]) continue;
      // aggsize bytes hold this many keys of this size (and at least a useful number).
      const uint64_t per_key = 8 * (mod.aggs[a].key_types.size() + 2) + 64;
      const uint64_t entries =
          std::clamp<uint64_t>(aggsize / per_key, kMinMapEntries, kMaxMapEntries);
      maps_[a] = bpf::KernelAggregation::create(mod.aggs[a], static_cast<uint32_t>(entries), err);
      if (!maps_[a]) return false;
      fds.aggs[a] = maps_[a]->fd();
    }
  // self-> scalars: a hash map each (thread id -> value), sharing dynvarsize as the engine's do.
  vars_.clear();
  vars_.resize(mod.dynvars.size());
  fds.vars.assign(mod.dynvars.size(), -1);
  std::vector<uint32_t> used;
  for (const Site& s : sites)
    for (uint32_t v : bytecode::thread_vars_of(mod, mod.clauses[s.clause]))
      if (std::find(used.begin(), used.end(), v) == used.end()) used.push_back(v);
  for (uint32_t v : used) {
    const uint64_t entries = std::clamp<uint64_t>(dynvarsize / kDynvarEntryBytes / used.size(),
                                                  kMinVarEntries, kMaxMapEntries);
    vars_[v] = bpf::create_map(BPF_MAP_TYPE_HASH, "vt_self", 8, 8, static_cast<uint32_t>(entries),
                               "the map of self->" + mod.dynvars[v].name, err);
    if (!vars_[v].valid()) return false;
    fds.vars[v] = vars_[v].get();
  }
  std::optional<bpf::KernelLayout> layout;  // for syscall probes' registers
  for (const Site& s : sites) {
    const bytecode::ClauseCode& clause = mod.clauses[s.clause];
    const std::string what = "clause #" + std::to_string(s.clause + 1) + " on " +
                             eng.catalog().probe(s.probe).full_name();
    bpf::ClauseTarget target = s.target;
    if (target.syscall || target.usdt)
      if (!layout && !(layout = bpf::read_kernel_layout(err))) return false;
    if (target.usdt) target.usdt->layout = *layout;
    if (target.syscall) {
      target.syscall->layout = *layout;
      target.syscall->data_fd = syscalls_.data_fd(s.clause, target.syscall->side, *layout, err);
      if (target.syscall->data_fd < 0) return false;
    }
    std::vector<bpf_insn> insns = bpf::emit_clause_program(mod, clause, target, fds, err);
    if (insns.empty()) return false;
    if (target.syscall) {
      if (!syscalls_.route(s.clause, target.syscall->side, target.syscall->nr, insns,
                           "the BPF program of " + what, err))
        return false;
      continue;
    }
    sys::UniqueFd prog =
        bpf::load_program(target.usdt ? BPF_PROG_TYPE_KPROBE : BPF_PROG_TYPE_TRACEPOINT, insns,
                          "vt_clause", "the BPF program of " + what, err);
    if (!prog.valid()) return false;
    if (target.usdt) {
      uprobes_.push_back(std::make_unique<sys::PerfRing>());
      if (!usdt_->attach_clause(s.usdt_site, s.usdt_pid, prog.get(), *uprobes_.back(), err))
        return false;
      progs_.push_back(std::move(prog));
      continue;
    }
    sys::UniqueFd link = bpf::attach_tracepoint(prog.get(), s.format->id, what, err);
    if (!link.valid()) return false;
    progs_.push_back(std::move(prog));
    links_.push_back(std::move(link));
  }
  if (!syscalls_.attach(err)) return false;
  for (uint32_t c = 0; c < mod.clauses.size(); ++c)
    if (at_probe[c]) eng.run_at_probe(c);
  std::vector<uint32_t> held;
  for (size_t a = 0; a < maps_.size(); ++a)
    if (maps_[a]) held.push_back(static_cast<uint32_t>(a));
  eng.add_aggregation_source(std::move(held), [this, &eng] { sync(eng); });
  return true;
}

void AtProbeClauses::sync(engine::Engine& eng) {
  for (size_t a = 0; a < maps_.size(); ++a) {
    if (!maps_[a]) continue;
    engine::Aggregation& agg = eng.aggregation(a);
    std::string err;
    if (!maps_[a]->read([&](std::string_view key, const int64_t* v) { agg.merge_partial(key, v); },
                        key_strings_, err))
      std::fprintf(stderr, "vtrace: host: @%s: %s\n", eng.module().aggs[a].name.c_str(),
                   err.c_str());
  }
}

void AtProbeClauses::report(std::FILE* out) const {
  if (!drops_.valid()) return;
  const int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return;
  std::vector<uint64_t> v(static_cast<size_t>(ncpu));
  for (uint32_t key : {bpf::kAggDropsKey, bpf::kDynvarDropsKey}) {
    if (bpf_map_lookup_elem(drops_.get(), &key, v.data()) != 0) continue;
    for (int c = 0; c < ncpu; ++c)
      if (v[c] > 0)
        std::fprintf(out, "vtrace: %llu %s drops on CPU %d (a kernel map was full)\n",
                     static_cast<unsigned long long>(v[c]),
                     key == bpf::kAggDropsKey ? "aggregation" : "dynamic variable", c);
  }
}

}  // namespace vtrace::targets::host
