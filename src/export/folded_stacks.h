// -x oformat=folded: aggregations keyed by stacks as the "folded" lines flame graph tools read
// (Brendan Gregg's flamegraph.pl, speedscope, inferno): one line per row, its keys as frames
// from the root down (other keys first, in key order; a stack's frames outermost first) joined
// by ';', a space, and the row's value. printa() prints its aggregation the same way, and so
// does the end of the run. Aggregations without a stack key, distributions, and what printf()
// and trace() print have no folded form: they are counted and said at the end (on `err`), not
// dropped silently.
#pragma once
#include <cstdio>

#include "engine/consumer.h"
#include "engine/output_stream.h"

namespace vtrace::exporters {

class FoldedStacks : public engine::Consumer {
 public:
  FoldedStacks(std::FILE* out, std::FILE* err) : out_(out), err_(err) {}

  void firing(const engine::Firing& f) override;
  void end(const std::vector<std::shared_ptr<const engine::AggSnapshot>>& aggs) override;
  bool flush() override { return out_.flush(); }
  int error() const override { return out_.error(); }

 private:
  void fold(const engine::AggSnapshot& a);

  engine::OutputStream out_;
  std::FILE* err_;
  uint64_t unfoldable_firings_ = 0;  // printf()/trace() output
  uint64_t unfoldable_aggs_ = 0;     // aggregations with no stack key, or distributions
};

}  // namespace vtrace::exporters
