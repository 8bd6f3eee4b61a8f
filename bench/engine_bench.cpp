// The engine through its public API (issue 2, item 7): compile time of a 100-clause script, and
// records per second through count(), printf, quantize, an empty clause and a struct reached
// through a pointer, fed by pre-built synthetic records; memory per aggregation key for
// 1,000,000 distinct keys.
//
// Instruction counts (repeatable, unlike times here):
//   valgrind --tool=callgrind --toggle-collect='vtrace::engine::Engine::process*'
//       build/bench/engine_bench --benchmark_filter=BM_CountByProbefuncFixed
// then divide the total Ir by the records processed (kFixedRecords).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "lang/compiler.h"
#include "lang/parser.h"

namespace {

using vtrace::Record;
using vtrace::engine::Catalog;
using vtrace::engine::Engine;
using vtrace::engine::Options;

// Replaces every "$K" in `tmpl` with k and every "$P" with k - 1.
std::string instantiate(std::string tmpl, int k) {
  for (auto [mark, value] : {std::pair<const char*, int>{"$K", k}, {"$P", k - 1}}) {
    const std::string v = std::to_string(value);
    for (size_t pos = tmpl.find(mark); pos != std::string::npos; pos = tmpl.find(mark, pos))
      tmpl.replace(pos, 2, v);
  }
  return tmpl;
}

// A generated script of `n` clauses mixing predicates, printf, aggregations, associative arrays,
// self-> and this-> variables and string subroutines.
std::string make_script(int n) {
  static const char* const kTemplates[] = {
      R"(test:::tick /arg0 > $K && probefunc != "x"/ { printf("%d %s %x\n", arg0, probefunc, arg1 + $K); })",
      R"(test:::tick { @c$K[probefunc, arg0 & 0xff] = count(); @s$K = sum(arg1 * 3); @m$K = max(arg0); })",
      R"(test:::tick { arr$K[arg0, probefunc] = arg1 + $K; self->x$K = arr$K[arg0, probefunc]; this->t = self->x$K << 2; })",
      R"(test:::tick /self->x$P != 0 || execname == "bash"/ { @q$K = quantize(arg0); trace(strjoin(execname, lltostr(arg0))); })",
      R"(test:::tock /(arg0 % 7) == 3/ { g$K = g$K + (arg1 > 10 ? arg1 : -arg1); printf("%s %d\n", substr(probefunc, 1, 3), g$K); @l$K = lquantize(arg1, 0, 100, 10); })",
  };
  std::string s;
  // Globals g<k> are declared so that reading them before the first store is valid D.
  for (int i = 4; i < n; i += 5) s += instantiate("int g$K;\n", i);
  for (int i = 0; i < n; ++i) {
    s += instantiate(kTemplates[i % 5], i);
    s += '\n';
  }
  return s;
}

void BM_Compile100Clauses(benchmark::State& state) {
  vtrace::lang::Source src{"bench.d", make_script(100)};
  size_t insns = 0;
  for (auto _ : state) {
    vtrace::bytecode::Module m = vtrace::lang::compile_source(src, vtrace::lang::MacroArgs{});
    if (m.clauses.size() != 100) throw std::runtime_error("expected 100 clauses");
    insns = 0;
    for (const auto& c : m.clauses) insns += c.code.size();
    benchmark::DoNotOptimize(m);
  }
  state.counters["clauses"] = 100;
  state.counters["insns"] = static_cast<double>(insns);
  state.counters["source_bytes"] = static_cast<double>(src.text.size());
}
BENCHMARK(BM_Compile100Clauses)->Unit(benchmark::kMicrosecond);

// One engine running `script` (quiet) on probes test:mod:f<i>:tick, i < nfuncs.
struct Rig {
  Rig(const std::string& script, int nfuncs, Options opts) {
    for (int i = 0; i < nfuncs; ++i) {
      std::string func("f");
      func += std::to_string(i);
      ticks.push_back(catalog.add("host", "test", "mod", func, "tick"));
    }
    src.name = "bench.d";
    src.text = script;
    opts.quiet = true;
    eng = std::make_unique<Engine>(vtrace::lang::compile_source(src, vtrace::lang::MacroArgs{}),
                                   src, opts, catalog);
    null_out = std::fopen("/dev/null", "w");
    eng->set_output(null_out);
    eng->set_error_output(null_out);
    eng->enable();
  }
  ~Rig() {
    eng.reset();
    std::fclose(null_out);
  }
  // `n` records round-robin over the tick probes, arg0 from `arg0_of(i)`.
  template <typename F>
  std::vector<Record> records(size_t n, F arg0_of) const {
    std::vector<Record> recs(n);
    for (size_t i = 0; i < n; ++i) {
      Record& r = recs[i];
      r.probe = ticks[i % ticks.size()];
      r.pid = 1000;
      r.tid = 1000 + static_cast<int32_t>(i % 4);
      r.cpu = static_cast<int32_t>(i % 2);
      r.timestamp = r.raw_timestamp = 1000000 + i;
      r.args[0] = arg0_of(i);
      r.args[1] = static_cast<int64_t>(i);
      std::snprintf(r.execname, sizeof r.execname, "%s", "bench");
    }
    return recs;
  }

  Catalog catalog;
  std::vector<uint32_t> ticks;
  vtrace::lang::Source src;
  std::unique_ptr<Engine> eng;
  std::FILE* null_out = nullptr;
};

// Runs the records round-robin, one per iteration.
void feed(benchmark::State& state, Rig& rig, const std::vector<Record>& recs) {
  const size_t mask = recs.size() - 1;  // recs.size() is a power of two
  size_t i = 0;
  for (auto _ : state) {
    rig.eng->process(recs[i]);
    i = (i + 1) & mask;
  }
  state.SetItemsProcessed(state.iterations());
  if (rig.eng->error_count() != 0) state.SkipWithError("the clause faulted");
}

constexpr int kFuncs = 8;
constexpr size_t kRecs = 1024;

void BM_CountByProbefunc(benchmark::State& state) {
  Rig rig("test:::tick { @[probefunc] = count(); }", kFuncs, Options{});
  auto recs = rig.records(kRecs, [](size_t i) { return static_cast<int64_t>(i); });
  feed(state, rig, recs);
  state.counters["keys"] = static_cast<double>(rig.eng->aggregation(0).size());
}
BENCHMARK(BM_CountByProbefunc);

// The same at a fixed record count, for callgrind (see the top of the file).
constexpr int64_t kFixedRecords = 1 << 20;
void BM_CountByProbefuncFixed(benchmark::State& state) {
  BM_CountByProbefunc(state);
}
BENCHMARK(BM_CountByProbefuncFixed)->Iterations(kFixedRecords);

void BM_EmptyClause(benchmark::State& state) {
  // Quiet: without -q an empty clause prints the probe line for every firing.
  Rig rig("test:::tick { }", kFuncs, Options{});
  auto recs = rig.records(kRecs, [](size_t i) { return static_cast<int64_t>(i); });
  feed(state, rig, recs);
}
BENCHMARK(BM_EmptyClause);

void BM_PrintfClause(benchmark::State& state) {
  Rig rig("test:::tick { printf(\"%s %d\\n\", probefunc, arg0); }", kFuncs, Options{});
  auto recs = rig.records(kRecs, [](size_t i) { return static_cast<int64_t>(i * 7919); });
  feed(state, rig, recs);
}
BENCHMARK(BM_PrintfClause);
void BM_PrintfClauseFixed(benchmark::State& state) {
  BM_PrintfClause(state);
}
BENCHMARK(BM_PrintfClauseFixed)->Iterations(kFixedRecords);

// D memory (Ldm/Stm, checked against what alloca() handed out) against this-> variables doing
// the same arithmetic: what a struct reached through a pointer costs a clause.
void BM_StructThroughPointer(benchmark::State& state) {
  Rig rig(
      "struct s { int a; long b; };\n"
      "test:::tick { this->p = (struct s *)alloca(sizeof(struct s)); this->p->a = arg0;"
      " this->p->b = this->p->a * 2; @ = sum(this->p->b); }",
      kFuncs, Options{});
  auto recs = rig.records(kRecs, [](size_t i) { return static_cast<int64_t>(i); });
  feed(state, rig, recs);
}
BENCHMARK(BM_StructThroughPointer);
void BM_SameWithClauseLocals(benchmark::State& state) {
  Rig rig("test:::tick { this->a = (int)arg0; this->b = (long)this->a * 2; @ = sum(this->b); }",
          kFuncs, Options{});
  auto recs = rig.records(kRecs, [](size_t i) { return static_cast<int64_t>(i); });
  feed(state, rig, recs);
}
BENCHMARK(BM_SameWithClauseLocals);

void BM_QuantizeClause(benchmark::State& state) {
  Rig rig("test:::tick { @ = quantize(arg0); }", kFuncs, Options{});
  // Values spread over many power-of-two buckets, negative ones included.
  auto recs = rig.records(kRecs, [](size_t i) {
    uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull;
    int64_t v = static_cast<int64_t>(x >> (i % 60));
    return (i % 5 == 0) ? -v : v;
  });
  feed(state, rig, recs);
}
BENCHMARK(BM_QuantizeClause);

// @[arg0] = count() over 1,000,000 distinct keys through the engine: bytes held per key.
void BM_AggMemoryPerKey(benchmark::State& state) {
  const int64_t n = state.range(0);
  size_t bytes = 0, keys = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto rig = std::make_unique<Rig>("test:::tick { @[arg0] = count(); }", 1, Options{});
    Record r = rig->records(1, [](size_t) { return int64_t{0}; })[0];
    state.ResumeTiming();
    for (int64_t v = 0; v < n; ++v) {
      r.args[0] = v * 2654435761LL;
      rig->eng->process(r);
    }
    bytes = rig->eng->aggregation(0).memory_bytes();
    keys = rig->eng->aggregation(0).size();
    state.PauseTiming();
    rig.reset();
    state.ResumeTiming();
  }
  if (keys != static_cast<size_t>(n)) state.SkipWithError("wrong number of keys");
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["bytes_per_key"] = static_cast<double>(bytes) / static_cast<double>(n);
  // The 8 key bytes are the floor; the target (< 100) is for what comes beyond them.
  state.counters["beyond_key"] = static_cast<double>(bytes) / static_cast<double>(n) - 8;
}
BENCHMARK(BM_AggMemoryPerKey)->Arg(1000000)->Unit(benchmark::kMillisecond)->Iterations(2);

}  // namespace

BENCHMARK_MAIN();
