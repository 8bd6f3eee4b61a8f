#include "vm/placement.h"

namespace vtrace::vm {

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

std::vector<std::string> place_clauses(
    const Module& mod,
    const std::function<std::string(uint32_t clause, const std::vector<bool>& placed_aggs)>&
        why_not) {
  std::vector<bool> placed_aggs = aggregations_kept_whole(mod);
  std::vector<std::string> why(mod.clauses.size());
  std::vector<bool> stays(mod.clauses.size(), false);
  for (bool changed = true; changed;) {
    changed = false;
    for (uint32_t c = 0; c < mod.clauses.size(); ++c) {
      if (stays[c]) continue;
      std::string reason = why_not(c, placed_aggs);
      if (reason.empty()) continue;
      stays[c] = true;
      why[c] = std::move(reason);
      for (uint32_t a : aggregations_of(mod.clauses[c]))
        if (a < placed_aggs.size() && placed_aggs[a]) {
          placed_aggs[a] = false;
          changed = true;
        }
    }
  }
  return why;
}

}  // namespace vtrace::vm
