#include "targets/process/site_aggregation.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "bytecode/placement.h"
#include "engine/engine.h"
#include "targets/process/process_target.h"
#include "transport/channel.h"

namespace vtrace::targets {

namespace {

constexpr uint32_t kMaxPlacedAggs = transport::kAggSlotsPerRing / 2;  // a slot pair each

// What a register of the clause holds, as far as site ops can tell.
struct Known {
  enum Kind : uint8_t { Unknown, Constant, Argument } kind = Unknown;
  int64_t value = 0;  // the constant, or the argument's index
};

uint16_t test_cmp(bytecode::ArgTest::Cmp c) {
  using T = bytecode::ArgTest;
  switch (c) {
    case T::Eq:
      return VTRACE_CMP_EQ;
    case T::Ne:
      return VTRACE_CMP_NE;
    case T::Lt:
      return VTRACE_CMP_LT;
    case T::Le:
      return VTRACE_CMP_LE;
    case T::Gt:
      return VTRACE_CMP_GT;
    case T::Ge:
      return VTRACE_CMP_GE;
    case T::Ltu:
      return VTRACE_CMP_LTU;
    case T::Leu:
      return VTRACE_CMP_LEU;
    case T::Gtu:
      return VTRACE_CMP_GTU;
    case T::Geu:
      return VTRACE_CMP_GEU;
  }
  return VTRACE_CMP_EQ;
}

// Table words a clause's ops take: one per op, and one more per test (its constant).
size_t words_of(const std::vector<SiteOp>& ops) {
  return ops.size() + static_cast<size_t>(std::count_if(
                          ops.begin(), ops.end(), [](const SiteOp& s) { return s.is_test(); }));
}

}  // namespace

std::string clause_site_ops(const bytecode::Module& mod, const bytecode::ClauseCode& clause,
                            std::vector<SiteOp>& ops) {
  using bytecode::Op;
  ops.clear();
  if (clause.predicate_end != 0 && !clause.predicate_is_tests)
    return "its predicate does more than compare arguments with constants (joined by &&)";
  for (const bytecode::ArgTest& t : clause.predicate_tests)
    if (t.arg >= VTRACE_MAX_ARGS) return "its predicate tests an argument sites do not have";
  std::vector<Known> reg(clause.nregs);
  bool keys = false, aggregates = false;
  for (size_t pc = clause.predicate_end; pc < clause.code.size(); ++pc) {
    const bytecode::Insn& in = clause.code[pc];
    if (in.a >= reg.size() && in.op != Op::Ret && in.op != Op::Tclr) return "its code is malformed";
    switch (in.op) {
      case Op::Ret: {
        if (!aggregates) return "it does not aggregate";
        // The tests first: each one that fails skips the rest of the clause's ops.
        const size_t n = clause.predicate_tests.size(), updates = ops.size();
        std::vector<SiteOp> tests;
        for (size_t i = 0; i < n; ++i) {
          const bytecode::ArgTest& t = clause.predicate_tests[i];
          const auto skip = static_cast<uint16_t>(n - 1 - i + updates);
          SiteOp s;
          s.op.kind = static_cast<uint16_t>(VTRACE_AGG_TEST | test_cmp(t.cmp) << 4 | skip << 8);
          s.op.arg = t.arg;
          s.constant = t.value;
          tests.push_back(s);
        }
        ops.insert(ops.begin(), tests.begin(), tests.end());
        return "";
      }
      case Op::Ldi:
        if (in.imm >= mod.consts.size()) return "its code is malformed";
        reg[in.a] = {Known::Constant, mod.consts[in.imm]};
        break;
      case Op::Ldb: {
        const auto b = static_cast<bytecode::Builtin>(in.imm);
        if (b < bytecode::Builtin::Arg0 || b > bytecode::Builtin::Arg9)
          return "it reads built-in variables other than arguments";
        reg[in.a] = {Known::Argument,
                     static_cast<int64_t>(in.imm) - static_cast<int64_t>(bytecode::Builtin::Arg0)};
        break;
      }
      case Op::Mov:
        if (in.b >= reg.size()) return "its code is malformed";
        reg[in.a] = reg[in.b];
        break;
      case Op::Tclr:
        keys = false;
        break;
      case Op::Tpush:
        keys = true;
        break;
      case Op::Agg: {
        if (keys) return "its aggregations have keys";
        if (in.imm >= mod.aggs.size() || in.b >= reg.size()) return "its code is malformed";
        const Known v = reg[in.b];
        SiteOp s;
        vtrace_agg_op& op = s.op;
        op.slot = in.imm;
        switch (mod.aggs[in.imm].func) {
          case bytecode::AggFunc::Count:
            op.kind = VTRACE_AGG_COUNT;
            break;
          case bytecode::AggFunc::Sum:
          case bytecode::AggFunc::Avg:
            op.kind = VTRACE_AGG_SUM;
            break;
          case bytecode::AggFunc::Min:
            op.kind = VTRACE_AGG_MIN;
            break;
          case bytecode::AggFunc::Max:
            op.kind = VTRACE_AGG_MAX;
            break;
          default:
            return "it uses an aggregating function other than count, sum, avg, min, max";
        }
        if (op.kind != VTRACE_AGG_COUNT) {
          if (v.kind != Known::Argument)
            return "its aggregated value is not an argument (arg0 .. arg9)";
          op.arg = static_cast<uint16_t>(v.value);
        }
        ops.push_back(s);
        aggregates = true;
        break;
      }
      default:
        return "it does more than aggregate arguments";
    }
  }
  return "its code is malformed";  // no Ret
}

void SiteAggregation::plan(engine::Engine& eng, ProcessTargets& procs,
                           const std::vector<uint32_t>& enabled, bool sync,
                           std::vector<std::string>& placement) {
  const bytecode::Module& mod = eng.module();
  std::vector<std::vector<uint32_t>> probes_of(mod.clauses.size());
  for (uint32_t id : enabled)
    for (uint32_t c : eng.clauses_on(id)) probes_of[c].push_back(id);
  auto owner = [&](uint32_t probe) -> ProcessTarget* {
    for (auto& t : procs.all())
      if (std::find(t->probe_ids().begin(), t->probe_ids().end(), probe) != t->probe_ids().end())
        return t.get();
    return nullptr;
  };
  std::vector<std::vector<SiteOp>> ops_of(mod.clauses.size());
  // Only the clauses enabled on probe.h sites alone are this target's to place.
  std::vector<bool> mine(mod.clauses.size(), false);
  for (uint32_t c = 0; c < mod.clauses.size(); ++c)
    mine[c] =
        !probes_of[c].empty() && std::all_of(probes_of[c].begin(), probes_of[c].end(),
                                             [&](uint32_t id) { return owner(id) != nullptr; });
  // A clause that would overflow a site's ops or the slots is kept in vtrace (rare: dozens of
  // aggregations on one probe), and the placement runs again without it.
  std::map<uint32_t, std::vector<SiteOp>> ops;  // per probe, slots placed
  std::map<uint32_t, std::string> in_vtrace;
  std::vector<std::string> why;
  for (bool again = true; again;) {
    again = false;
    why = bytecode::place_clauses(mod, [&](uint32_t c, const bytecode::Kept& kept) {
      if (!mine[c]) return std::string("it is enabled on probes other than probe.h sites");
      if (in_vtrace.count(c)) return in_vtrace[c];
      if (sync) return std::string("sync mode runs every firing in vtrace, in order");
      std::string reason = clause_site_ops(mod, mod.clauses[c], ops_of[c]);
      if (!reason.empty()) return reason;
      for (const SiteOp& s : ops_of[c])
        if (!s.is_test() && !kept.aggs[s.op.slot])
          return "its aggregation @" + mod.aggs[s.op.slot].name +
                 " is updated or reset in vtrace too";
      const bool tests = !mod.clauses[c].predicate_tests.empty();
      for (uint32_t id : probes_of[c]) {
        if (!owner(id)->sites_have(id, VTRACE_DESC_AGG))
          return "the program of " + eng.catalog().probe(id).full_name() +
                 " was built with a probe.h that cannot aggregate at its sites";
        if (tests && !owner(id)->sites_have(id, VTRACE_DESC_TEST))
          return "the program of " + eng.catalog().probe(id).full_name() +
                 " was built with a probe.h that cannot test arguments at its sites";
      }
      return std::string();
    });
    // Slot pairs for the placed aggregations, then every probe's ops.
    slot_of_.assign(mod.aggs.size(), -1);
    ops.clear();
    uint32_t next = 0;
    std::map<const ProcessTarget*, uint32_t> entries;  // probes with ops, per process
    for (uint32_t c = 0; c < mod.clauses.size() && !again; ++c) {
      if (!why[c].empty()) continue;
      for (const SiteOp& s : ops_of[c])
        if (!s.is_test() && slot_of_[s.op.slot] < 0 && next < kMaxPlacedAggs)
          slot_of_[s.op.slot] = 2 * next++;
      for (const SiteOp& s : ops_of[c])
        if (!s.is_test() && slot_of_[s.op.slot] < 0)
          in_vtrace[c] = "the processes' aggregation slots are all taken";
      for (uint32_t id : probes_of[c])
        if (words_of(ops[id]) + words_of(ops_of[c]) > VTRACE_MAX_SITE_OPS)
          in_vtrace[c] = "its probe would run more than " + std::to_string(VTRACE_MAX_SITE_OPS) +
                         " aggregations and tests (with their constants) at a site";
        else if (ops[id].empty() && ++entries[owner(id)] > transport::kSiteOpsEntries)
          in_vtrace[c] = "its process has more than " + std::to_string(transport::kSiteOpsEntries) +
                         " probes aggregating at their sites";
      again = in_vtrace.count(c) != 0;
      for (uint32_t id : probes_of[c])
        for (SiteOp s : ops_of[c]) {
          if (!s.is_test()) s.op.slot = static_cast<uint32_t>(slot_of_[s.op.slot]);
          ops[id].push_back(s);
        }
    }
  }
  // Each probe's table entry: its ops, then its tests' constants, each test naming its word.
  entries_.clear();
  for (const auto& [id, probe_ops] : ops) {
    SiteOpsEntry& e = entries_[id];
    e.nops = static_cast<uint32_t>(probe_ops.size());
    std::vector<vtrace_agg_op> constants;
    for (SiteOp s : probe_ops) {
      if (s.is_test()) {
        s.op.slot = e.nops + static_cast<uint32_t>(constants.size());
        vtrace_agg_op word;
        static_assert(sizeof word == sizeof s.constant);
        std::memcpy(&word, &s.constant, sizeof word);
        constants.push_back(word);
      }
      e.words.push_back(s.op);
    }
    e.words.insert(e.words.end(), constants.begin(), constants.end());
  }
  placed_.assign(mod.clauses.size(), false);
  for (uint32_t c = 0; c < mod.clauses.size(); ++c) {
    placed_[c] = why[c].empty();
    if (mine[c])  // the lines of the clauses on probe.h sites alone are this target's
      placement[c] = placed_[c] ? "runs at the probe (aggregates in the process's memory)"
                                : "runs in vtrace: " + why[c];
  }
}

const SiteOpsEntry* SiteAggregation::ops_of(uint32_t probe) const {
  auto it = entries_.find(probe);
  return it == entries_.end() ? nullptr : &it->second;
}

void SiteAggregation::start(engine::Engine& eng, ProcessTargets& procs) {
  std::vector<uint32_t> held;
  for (uint32_t a = 0; a < slot_of_.size(); ++a)
    if (slot_of_[a] >= 0) held.push_back(a);
  if (held.empty()) return;
  for (uint32_t c = 0; c < placed_.size(); ++c)
    if (placed_[c]) eng.run_at_probe(c);
  eng.add_aggregation_source(std::move(held), [this, &eng, &procs] { merge(eng, procs); });
}

void SiteAggregation::merge(engine::Engine& eng, ProcessTargets& procs) const {
  for (auto& t : procs.all()) t->read_site_slots();
  for (uint32_t a = 0; a < slot_of_.size(); ++a) {
    if (slot_of_[a] < 0) continue;
    const auto slot = static_cast<uint32_t>(slot_of_[a]);
    const bytecode::AggFunc func = eng.module().aggs[a].func;
    uint64_t n = 0, sum = 0;
    int64_t low = std::numeric_limits<int64_t>::max(), high = std::numeric_limits<int64_t>::min();
    for (auto& t : procs.all())
      for (uint32_t r = 0; r < t->slot_rings(); ++r) {
        const uint64_t rn = t->site_slot(r, slot);
        if (rn == 0) continue;
        const uint64_t v = t->site_slot(r, slot + 1);
        n += rn;
        sum += v;  // wraps as the engine's sums do
        low = std::min(low, static_cast<int64_t>(v));
        high = std::max(high, static_cast<int64_t>(v));
      }
    if (n == 0) continue;  // never fired: no entry, as in the engine
    int64_t values[2] = {0, 0};
    switch (func) {
      case bytecode::AggFunc::Count:
        values[0] = static_cast<int64_t>(n);
        break;
      case bytecode::AggFunc::Sum:
        values[0] = static_cast<int64_t>(sum);
        break;
      case bytecode::AggFunc::Avg:
        values[0] = static_cast<int64_t>(n);
        values[1] = static_cast<int64_t>(sum);
        break;
      case bytecode::AggFunc::Min:
        values[0] = low;
        break;
      case bytecode::AggFunc::Max:
        values[0] = high;
        break;
      default:
        continue;
    }
    eng.aggregation(a).merge_partial("", values);
  }
}

}  // namespace vtrace::targets
