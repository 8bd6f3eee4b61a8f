// The consumer seam: what the engine emits, typed, and who receives it. A clause firing becomes
// one Firing (its probe, the record's target, time and context, and each value it traced or
// printed with its type, or the aggregation snapshot printa() printed); the end of the run
// hands over the aggregations still to print. The text formatter (dtrace(1)'s output,
// text_consumer.h) is one consumer; the exporters (src/export/) are others.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/agg_snapshot.h"
#include "engine/printf_format.h"
#include "transport/record.h"

namespace vtrace::engine {

// One output action of a firing, in the order the clause ran them.
struct FiringItem {
  // Tracemem: one value, a String whose bytes (NULs too) are the memory dumped.
  enum class Kind : uint8_t { Trace, Printf, Printa, Tracemem };
  Kind kind = Kind::Trace;
  uint32_t action = 0;            // index into the program's actions (its format)
  uint32_t first = 0, count = 0;  // its values: Firing::values[first, first + count)
  // Printa: its aggregations as they printed, Firing::snapshots[snapshot, snapshot + nsnapshots)
  // (several: printa("%d %@d %@d", @a, @b) joins their rows by key).
  uint32_t snapshot = 0, nsnapshots = 0;
};

struct Firing {
  uint32_t epid = 0, clause = 0, probe = 0;
  // From the record: where and when the probe fired.
  uint32_t target = 0;  // catalog target index; 0 = the host
  int32_t pid = 0, tid = 0, cpu = 0;
  uint64_t timestamp = 0;       // host CLOCK_MONOTONIC ns (a guest's translated)
  uint64_t clock_bound_ns = 0;  // +- of that translation (0: the host clock; UINT64_MAX: none)
  char execname[kExecnameLen] = {};
  // dtrace(1)'s text: the firing starts with its probe line ("CPU ID FUNCTION:NAME") and ends it
  // with a newline. A firing split around system() has the first part start the line and the
  // last end it.
  bool probe_line = false;
  bool line_end = false;
  std::vector<FiringItem> items;
  // Typed values. Strings point into the engine's scratch while the firing runs, into `strings`
  // after own().
  std::vector<FormatArg> values;
  std::vector<std::shared_ptr<const AggSnapshot>> snapshots;  // printa()'s
  const AggSnapshot& snapshot(const FiringItem& it) const { return *snapshots[it.snapshot]; }
  std::span<const std::shared_ptr<const AggSnapshot>> printed(const FiringItem& it) const {
    return {snapshots.data() + it.snapshot, it.nsnapshots};
  }

  void clear() {
    items.clear();
    values.clear();
    if (!snapshots.empty()) snapshots.clear();
    if (strings_) strings_.reset();
    probe_line = line_end = false;
  }
  bool empty() const { return items.empty() && !probe_line && !line_end; }
  // Copies the strings the values point to into the firing (kept past the clause: speculation).
  void own();
  // What the firing takes in a speculation buffer, as dtrace counts it: a record header, 8 bytes
  // per integer and `strsize` per string.
  uint64_t buffer_bytes(uint64_t strsize) const;

 private:
  std::unique_ptr<char[]> strings_;  // stays put when the firing moves
};

class Consumer {
 public:
  virtual ~Consumer() = default;
  // A clause firing completed (or was committed from a speculation). Values and snapshots are
  // valid during the call only; a consumer that keeps them copies them.
  virtual void firing(const Firing& f) = 0;
  // The end of the run: every aggregation with data that no printa() printed, in program order
  // (dtrace prints them after a blank line).
  virtual void end(const std::vector<std::shared_ptr<const AggSnapshot>>& aggs) = 0;
  // Writes what is buffered; false once the output cannot be written (error() says why).
  virtual bool flush() = 0;
  virtual int error() const = 0;  // errno of the failed write; 0 while the output works
};

}  // namespace vtrace::engine
