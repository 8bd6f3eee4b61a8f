// Records per second through the one timeline (targets/timeline.h) with 1, 4 and 16 targets:
// each poll, every target delivers a batch of records with interleaved timestamps and moves its
// watermark. One target goes straight to the sink; several are copied (HeldRecord) and merged.
//   build (-DVTRACE_BENCH=ON) and run: build/bench/timeline_bench
#include <benchmark/benchmark.h>

#include <vector>

#include "targets/timeline.h"

namespace {

using vtrace::Record;
using vtrace::RecordSink;

constexpr uint64_t kBatch = 64;

class SyntheticTarget : public vtrace::targets::Target {
 public:
  SyntheticTarget(uint64_t phase, uint64_t stride) : next_(phase), stride_(stride) {}
  const char* name() const override { return "synthetic"; }
  bool enable(const vtrace::targets::EnableRequest&, std::string&) override { return true; }
  bool active() const override { return true; }
  size_t poll(RecordSink& sink, uint64_t) override {
    Record rec;
    rec.tail = tail_;
    rec.tail_len = sizeof tail_;
    rec.args[0] = 1;
    for (uint64_t i = 0; i < kBatch; ++i) {
      rec.timestamp = next_;
      next_ += stride_;
      sink.deliver(rec);
    }
    watermark_ = next_;
    return kBatch;
  }
  uint64_t watermark() const override { return watermark_; }
  void drain(RecordSink&) override {}
  void report(std::FILE*) const override {}

 private:
  uint64_t next_, stride_, watermark_ = 0;
  char tail_[24] = "a string copied at site";
};

class CountingSink : public RecordSink {
 public:
  void deliver(const Record& rec) override { sum_ += rec.timestamp + rec.args[0]; }
  uint64_t sum_ = 0;
};

void BM_TimelineRecords(benchmark::State& state) {
  const auto ntargets = static_cast<uint64_t>(state.range(0));
  std::vector<SyntheticTarget> targets;
  targets.reserve(ntargets);
  // Target k stamps k, k + n, k + 2n ...: every record interleaves with every other target's.
  for (uint64_t k = 0; k < ntargets; ++k) targets.emplace_back(k + 1, ntargets);
  vtrace::targets::Timeline tl;
  for (auto& t : targets) tl.add(t);
  CountingSink sink;
  uint64_t records = 0;
  for (auto _ : state) records += tl.round(0, sink);
  benchmark::DoNotOptimize(sink.sum_);
  state.SetItemsProcessed(static_cast<int64_t>(records));
}
BENCHMARK(BM_TimelineRecords)->Arg(1)->Arg(4)->Arg(16);

// A target that only fires at its deadlines (tick-N): far ahead, it holds nobody back.
class TimerTarget : public vtrace::targets::Target {
 public:
  const char* name() const override { return "timer"; }
  bool enable(const vtrace::targets::EnableRequest&, std::string&) override { return true; }
  bool active() const override { return true; }
  size_t poll(RecordSink&, uint64_t) override { return 0; }
  uint64_t watermark() const override { return UINT64_MAX - 1; }
  void drain(RecordSink&) override {}
  void report(std::FILE*) const override {}
};

// One busy target next to a timer (a script with tick-N and kernel probes): its records pass
// the merge without a copy.
void BM_TimelineWithTimer(benchmark::State& state) {
  SyntheticTarget busy(1, 1);
  TimerTarget timer;
  vtrace::targets::Timeline tl;
  tl.add(timer);
  tl.add(busy);
  CountingSink sink;
  uint64_t records = 0;
  for (auto _ : state) records += tl.round(0, sink);
  benchmark::DoNotOptimize(sink.sum_);
  state.SetItemsProcessed(static_cast<int64_t>(records));
}
BENCHMARK(BM_TimelineWithTimer);

}  // namespace

BENCHMARK_MAIN();
