// Clauses that aggregate where a probe.h site fires, in the traced process's own memory
// (include/vtrace/channel_abi.h: site ops and per-ring slots). A burst of firings then loses
// nothing to a full ring, as DTrace and bpftrace aggregate where the event happens. A clause
// qualifies when its predicate, if any, only compares arguments with integer constants joined by
// && (tests the site runs: VTRACE_AGG_TEST), and it only updates aggregations without keys with
// count(), sum(), avg(), min() or max() of an argument; when every probe it is enabled on is a
// probe.h site that can run those ops (a program built with this probe.h); in async mode (sync mode
// keeps every firing's exact place in the global order). The engine merges every process's slots
// when it prints; a lying process can only falsify its own contribution.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bytecode/module.h"
#include "targets/process/process_target.h"
#include "vtrace/channel_abi.h"

namespace vtrace::engine {
class Engine;
}

namespace vtrace::targets {

class ProcessTargets;

// One site op of a clause: an aggregation update (slot = the aggregation's index, to be placed)
// or a test of its predicate, which skips the clause's later ops when it fails, with the
// constant it compares with (a word of its own in the site's entry).
struct SiteOp {
  vtrace_agg_op op{};
  int64_t constant = 0;
  bool is_test() const { return (op.kind & 0xfu) == VTRACE_AGG_TEST; }
};

// The site ops `clause` compiles to, tests first, or "" and why it cannot run at a site.
std::string clause_site_ops(const bytecode::Module& mod, const bytecode::ClauseCode& clause,
                            std::vector<SiteOp>& ops);

class SiteAggregation {
 public:
  // Decides which clauses enabled on `enabled` run at their probe.h sites. `placement` (one
  // line per clause, as `vtrace -e -v` shows it) is updated for the clauses enabled only on
  // probe.h sites.
  void plan(engine::Engine& eng, ProcessTargets& procs, const std::vector<uint32_t>& enabled,
            bool sync, std::vector<std::string>& placement);
  // Takes the planned clauses from the engine and makes it merge their aggregations from the
  // processes' slots when it prints them. Call before the processes' sites are enabled.
  void start(engine::Engine& eng, ProcessTargets& procs);
  // The entry of the site ops table probe `id`'s sites run (nullptr: none).
  const SiteOpsEntry* ops_of(uint32_t probe) const;

 private:
  void merge(engine::Engine& eng, ProcessTargets& procs) const;

  std::vector<bool> placed_;      // per clause
  std::vector<int64_t> slot_of_;  // per aggregation: its slot pair, -1 when not at sites
  std::map<uint32_t, SiteOpsEntry> entries_;  // per probe, as its sites' table entry
};

}  // namespace vtrace::targets
