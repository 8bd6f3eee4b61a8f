// One D aggregation (@name[keys] = func(args)): storage of its keyed values, the operations
// clear/trunc/normalize/denormalize, and its output in dtrace's default layout or through
// printa() with a format.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/printf_format.h"
#include "engine/stack_table.h"
#include "lang/types.h"

namespace vtrace::engine {

enum class AggFunc : uint8_t { Count, Sum, Avg, Min, Max, Stddev, Quantize, Lquantize, Llquantize };

// Name as written in D ("count", "lquantize", ...).
const char* agg_func_name(AggFunc f);

struct AggDef {
  std::string name;  // without '@'; "" for the anonymous aggregation "@"
  AggFunc func = AggFunc::Count;
  std::vector<lang::Type> key_types;  // empty for a key-less aggregation (@x = count())
  // lquantize(value, base, limit, step)
  int64_t base = 0, limit = 0, step = 1;
  // llquantize(value, factor, low, high, nsteps)
  int64_t factor = 10, low = 0, high = 0, nsteps = 10;
};

// Sorting of output rows. DTrace's default: by value ascending, ties by key ascending.
struct AggSortOptions {
  bool sort_by_key = false;  // -x aggsortkey
  bool reverse = false;      // -x aggsortrev
  uint32_t keypos = 0;       // -x aggsortkeypos: keys compare from this one on, wrapping around
};

// The aggsize bound (-x aggsize, #pragma D option aggsize) that every aggregation of a program
// shares, as the aggregations of a dtrace consumer share one aggregation buffer: bytes of keys
// and values (AggTable::entry_cost). A new key that does not fit is dropped and counted ("N
// aggregation drops"); keys already held keep aggregating.
class AggSnapshot;

struct AggBudget {
  uint64_t capacity = UINT64_MAX;
  uint64_t used = 0;
  uint64_t drops = 0;
};

class Aggregation {
 public:
  // `budget` (shared by a program's aggregations, outliving them) bounds the keys; nullptr =
  // unbounded.
  // `stacks` (outliving the aggregation) prints keys of type stack; nullptr: printed as ids.
  explicit Aggregation(AggDef def, AggBudget* budget = nullptr, const StackTable* stacks = nullptr);
  ~Aggregation();
  Aggregation(const Aggregation&) = delete;
  Aggregation& operator=(const Aggregation&) = delete;

  const AggDef& def() const;

  // Applies the function to the entry of `key` (tuple encoding, see tuple.h), creating it when
  // the budget has room (else the update is dropped and counted in the budget).
  // `value` is the function's argument (ignored by count); `incr` the weight of the
  // quantize family's optional last argument (1 by default).
  void update(std::string_view key, int64_t value, int64_t incr = 1);

  // Merges a partial state of `key` kept elsewhere (one CPU's, in the kernel) in this
  // aggregation's value layout: count/sum [n], avg [count, sum], min/max [value], stddev [count,
  // sum, sum of squares lo, hi], the bins of quantize/lquantize/llquantize.
  void merge_partial(std::string_view key, const int64_t* values);

  size_t size() const;              // number of keys
  uint64_t smallest_entry() const;  // what a key of no bytes costs of aggsize

  // clear(@a): zero every value, keep the keys.
  void clear();
  // trunc(@a): remove every key. trunc(@a, n): keep the n rows with the largest values (n > 0)
  // or the -n smallest (n < 0).
  void trunc_all();
  void trunc(int64_t n);
  // normalize(@a, n): values printed divided by n; denormalize(@a) undoes it.
  void normalize(int64_t n);
  void denormalize();

  // The rows as they are now, in output order (printa, the end of the run); `id` is the
  // aggregation's index in the program.
  std::shared_ptr<const AggSnapshot> snapshot(uint32_t id, const AggSortOptions& sort) const;

  // Appends the aggregation in dtrace's default layout (as printed at exit and by printa(@a)),
  // including the leading blank line dtrace prints before each aggregation.
  void print_default(std::string& out, const AggSortOptions& sort = {}) const;
  // The rows alone (one line per key, or a key and its distribution), without the leading blank
  // line: what dtrace prints for each aggregation at the end of the run.
  void print_rows(std::string& out, const AggSortOptions& sort = {}) const;

  // printa("format", @a): one formatted line per key; the "%@" conversion prints the value.
  void printa(std::string& out, const PrintfFormat& fmt, const AggSortOptions& sort = {}) const;

  // Memory in bytes held by the table (for the per-key memory benchmark).
  size_t memory_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  AggBudget* budget_;
  const StackTable* stacks_;
  // The values of `key`, created when the budget has room (nullptr, counted, when not).
  int64_t* entry(std::string_view key);
  // Gives the budget back what the keys removed by `op` held.
  template <typename Op>
  void shrink(Op op);
};

}  // namespace vtrace::engine
