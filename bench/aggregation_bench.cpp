// Aggregation hot path and footprint: @[probefunc] = count() update throughput, and the memory a
// count() aggregation holds per distinct integer key.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "engine/aggregation.h"
#include "bytecode/tuple.h"

namespace {

using vtrace::engine::AggDef;
using vtrace::engine::AggFunc;
using vtrace::engine::Aggregation;
using vtrace::lang::Type;

// @[probefunc] = count(): a handful of function names, as a syscall trace would see.
void BM_CountStringKey(benchmark::State& state) {
  static const char* const kFuncs[] = {
      "read",  "write", "openat", "close", "mmap",    "munmap",  "futex",         "epoll_wait",
      "ioctl", "fstat", "lseek",  "poll",  "sendmsg", "recvmsg", "clock_gettime", "brk"};
  std::vector<std::string> keys;
  for (const char* f : kFuncs) {
    std::string k;
    vtrace::bytecode::tuple_put_str(k, f);
    keys.push_back(std::move(k));
  }
  AggDef def;
  def.func = AggFunc::Count;
  def.key_types = {Type::str()};
  Aggregation agg(def);
  size_t i = 0;
  for (auto _ : state) {
    agg.update(keys[i], 0);
    i = (i + 1) & 15;
  }
  state.SetItemsProcessed(state.iterations());
  benchmark::DoNotOptimize(agg.size());
}
BENCHMARK(BM_CountStringKey);

// @[n] = count() over 1,000,000 distinct 64-bit keys: bytes held per key.
void BM_CountIntKeysMemory(benchmark::State& state) {
  const int64_t n = state.range(0);
  size_t bytes = 0;
  for (auto _ : state) {
    AggDef def;
    def.func = AggFunc::Count;
    def.key_types = {Type::i64()};
    Aggregation agg(def);
    std::string k;
    for (int64_t v = 0; v < n; v++) {
      k.clear();
      vtrace::bytecode::tuple_put_int(k, v * 2654435761LL);
      agg.update(k, 0);
    }
    bytes = agg.memory_bytes();
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["bytes_per_key"] = static_cast<double>(bytes) / static_cast<double>(n);
  // The 8 key bytes themselves are the floor; this is the table's own overhead.
  state.counters["overhead_per_key"] = static_cast<double>(bytes) / static_cast<double>(n) - 8;
}
BENCHMARK(BM_CountIntKeysMemory)->Arg(1000000)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
