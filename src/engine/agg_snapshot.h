// An aggregation as it was when it printed (printa(), the end of the run): its rows in output
// order, frozen, with what a consumer needs to lay them out as dtrace does or to export them.
// A speculative printa keeps its snapshot until commit, as dtrace keeps the printed data.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bytecode/tuple.h"
#include "engine/aggregation.h"

namespace vtrace::engine {

struct AggState;
class StackTable;
class PrintfFormat;

class AggSnapshot {
 public:
  // Copies the rows of `state` in the order `sort` gives. `stacks` (outliving the snapshot) lays
  // out stack keys; nullptr prints them as ids.
  AggSnapshot(uint32_t id, const AggState& state, const AggSortOptions& sort,
              const StackTable* stacks);
  ~AggSnapshot();
  AggSnapshot(const AggSnapshot&) = delete;
  AggSnapshot& operator=(const AggSnapshot&) = delete;

  uint32_t id() const { return id_; }  // the aggregation's index in the program
  const AggDef& def() const;
  size_t rows() const;
  const StackTable* stacks() const { return stacks_; }

  // The keys of `row`, decoded (strings point into the snapshot).
  void keys(size_t row, std::vector<bytecode::TupleElem>& out) const;
  // count, sum, avg, min, max as printed (normalized); stddev's bits are unsigned.
  int64_t value(size_t row) const;
  bool is_distribution() const;  // quantize, lquantize, llquantize
  // The buckets of a distribution row that dtrace's layout shows (the non-zero ones and a zero
  // row either side), each with its lower bound; `below`/`above` mark the open-ended buckets
  // ("< base", ">= limit").
  struct Bucket {
    int64_t bound = 0;
    int64_t count = 0;  // normalized
    bool below = false, above = false;
    bool at_most = false;    // llquantize's lowest bin: "<= bound"
    bool magnitude = false;  // with below: |value| < bound ("abs() < bound")
    // As dtrace prints it: "42", "< 10", "abs() < 10", ">= 1000", "<= -1000".
    std::string label() const;
  };
  std::vector<Bucket> buckets(size_t row) const;

  // Text in dtrace's layouts (aggregation_print.cpp): the rows (what the end of the run prints
  // for each aggregation), the rows after printa's blank line, and printa with a format.
  void print_rows(std::string& out) const;
  void print_default(std::string& out) const;
  void printa(std::string& out, const PrintfFormat& fmt) const;
  // printa() of several aggregations (printa("%d %@d %@d", @a, @b)): their rows joined by key,
  // a key one of them lacks showing its zero value, sorted as the first's rows are by `sort`;
  // the n-th %@ shows the n-th aggregation (the last one again past the end).
  static void printa(std::string& out, const PrintfFormat& fmt,
                     std::span<const std::shared_ptr<const AggSnapshot>> aggs,
                     const AggSortOptions& sort);

 private:
  uint32_t id_;
  std::unique_ptr<AggState> state_;  // its table holds the rows in output order
  const StackTable* stacks_;
};

}  // namespace vtrace::engine
