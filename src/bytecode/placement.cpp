#include "bytecode/placement.h"

namespace vtrace::bytecode {

std::vector<uint32_t> aggregations_of(const ClauseCode& clause) {
  std::vector<uint32_t> out;
  for (const Insn& in : clause.code)
    if (in.op == Op::Agg) out.push_back(in.imm);
  return out;
}

std::vector<bool> aggregations_kept_whole(const Module& mod) {
  std::vector<bool> ok(mod.aggs.size(), true);
  for (const Action& a : mod.actions) {
    using K = ActionKind;
    if ((a.kind == K::Clear || a.kind == K::Trunc || a.kind == K::Normalize ||
         a.kind == K::Denormalize) &&
        a.agg < ok.size())
      ok[a.agg] = false;
  }
  return ok;
}

std::vector<uint32_t> thread_vars_of(const Module& mod, const ClauseCode& clause) {
  std::vector<uint32_t> out;
  for (const Insn& in : clause.code)
    if ((in.op == Op::Ldd || in.op == Op::Std) && in.imm < mod.dynvars.size() &&
        mod.dynvars[in.imm].scope == VarScope::Thread && !mod.dynvars[in.imm].is_array)
      out.push_back(in.imm);
  return out;
}

std::vector<uint32_t> locals_of(const ClauseCode& clause) {
  std::vector<uint32_t> out;
  for (const Insn& in : clause.code)
    if (in.op == Op::Ldl || in.op == Op::Stl) out.push_back(in.imm);
  return out;
}

std::vector<std::string> place_clauses(
    const Module& mod,
    const std::function<std::string(uint32_t clause, const Kept& kept)>& why_not) {
  Kept kept;
  kept.aggs = aggregations_kept_whole(mod);
  kept.thread_vars.assign(mod.dynvars.size(), false);
  for (size_t v = 0; v < mod.dynvars.size(); ++v)
    kept.thread_vars[v] = mod.dynvars[v].scope == VarScope::Thread && !mod.dynvars[v].is_array;
  kept.locals.assign(mod.locals.size(), true);
  std::vector<std::string> why(mod.clauses.size());
  std::vector<bool> stays(mod.clauses.size(), false);
  auto take = [](std::vector<bool>& kept_set, uint32_t i, bool& changed) {
    if (i < kept_set.size() && kept_set[i]) {
      kept_set[i] = false;
      changed = true;
    }
  };
  for (bool changed = true; changed;) {
    changed = false;
    for (uint32_t c = 0; c < mod.clauses.size(); ++c) {
      if (stays[c]) continue;
      std::string reason = why_not(c, kept);
      if (reason.empty()) continue;
      stays[c] = true;
      why[c] = std::move(reason);
      for (uint32_t a : aggregations_of(mod.clauses[c])) take(kept.aggs, a, changed);
      for (uint32_t v : thread_vars_of(mod, mod.clauses[c])) take(kept.thread_vars, v, changed);
      for (uint32_t v : locals_of(mod.clauses[c])) take(kept.locals, v, changed);
    }
  }
  return why;
}

}  // namespace vtrace::bytecode
