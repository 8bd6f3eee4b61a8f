// Cost of a probe site (include/vtrace/probe.h), measured without the vtrace host:
//
//   BM_DisabledProbe       a VTRACE_PROBE nothing has enabled: one load, one not-taken branch
//   BM_EnabledAsyncProbe   an enabled probe writing a record into its ring (async mode)
//   BM_EnabledAsyncStrProbe  the same with a copied string (VTRACE_PROBE_STR)
//   BM_SyncRoundTrip       an enabled probe in sync mode: write, then wait until "the host" marks
//                          the record done
//   BM_SiteAggregation     an enabled probe whose clause (@c = count(); @s = sum(arg0)) runs at
//                          the site: two slot updates in the thread's aggregation slots, no record
//
// The enabled cases need a channel. This program makes one ITSELF, in-process: it creates
// /dev/shm/vtrace.<pid> with a valid header, enables the descriptors it finds between
// __start_vtrace_probes and __stop_vtrace_probes, and runs a stand-in consumer thread that only
// advances `tail` (and, for sync, publishes `done` and wakes the waiter).
// It polls every ~50 µs in async mode and spins in sync mode. That consumer does none
// of the host's work (validation, clauses), so these numbers are the cost AT THE SITE only; the
// end-to-end cost with the real host is measured by bench/usdt_vs_vtrace.sh.
//
// Each benchmark runs 10 repetitions and reports mean/median/stddev; quote the median.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "vtrace/probe.h"

extern "C" {
extern struct vtrace_probe_desc __stop_vtrace_probes[] __attribute__((weak, visibility("hidden")));
}

namespace {

constexpr uint32_t kRings = 4;
constexpr uint32_t kSlots = 4096;
constexpr uint32_t kAggSlots = 16;

uint64_t round_up(uint64_t v, uint64_t a) {
  return (v + a - 1) / a * a;
}

// The in-process stand-in for the host: a channel file, its mapping and a consumer thread.
class FakeHost {
 public:
  bool start() {
    snprintf(path_, sizeof path_, "/dev/shm/vtrace.%d", (int)getpid());
    const uint64_t ring_offset = round_up(sizeof(vtrace_channel), 4096);
    const uint64_t stride =
        round_up(sizeof(vtrace_ring) + uint64_t{kSlots} * VTRACE_RECORD_SIZE, 4096);
    agg_offset_ = round_up(ring_offset + kRings * stride, VTRACE_RING_ALIGN);
    size_ = agg_offset_ + sizeof(vtrace_site_ops) + kRings * kAggSlots * sizeof(uint64_t);
    int fd = open(path_, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || ftruncate(fd, (off_t)size_) != 0) {
      perror(path_);
      if (fd >= 0) close(fd);
      return false;
    }
    void* p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return false;
    ch_ = static_cast<vtrace_channel*>(p);
    ch_->magic = VTRACE_CHANNEL_MAGIC;
    ch_->version = VTRACE_ABI_VERSION;
    ch_->flags = VTRACE_CHAN_TSC;  // as vtrace sets it where the TSC is a usable clock
    ch_->nrings = kRings;
    ch_->nslots = kSlots;
    ch_->record_size = VTRACE_RECORD_SIZE;
    ch_->ring_offset = (uint32_t)ring_offset;
    ch_->ring_stride = stride;
    ch_->total_size = size_;
    ch_->agg_offset = agg_offset_;
    ch_->nsite_ops = 1;
    ch_->agg_slots = kAggSlots;
    ch_->go = 1;
    __atomic_store_n(&ch_->attached, 1, __ATOMIC_RELEASE);
    consumer_ = std::thread([this] { consume(); });
    return true;
  }

  void stop() {
    if (ch_ == nullptr) return;
    stop_.store(true);
    consumer_.join();
    __atomic_store_n(&ch_->attached, 0, __ATOMIC_RELEASE);
    unlink(path_);
  }

  void set_sync(bool on) {
    __atomic_store_n(&ch_->flags, VTRACE_CHAN_TSC | (on ? VTRACE_CHAN_SYNC : 0u), __ATOMIC_RELEASE);
  }
  vtrace_channel* channel() const { return ch_; }
  vtrace_ring* ring(uint32_t i) const {
    return reinterpret_cast<vtrace_ring*>(reinterpret_cast<char*>(ch_) + ch_->ring_offset +
                                          uint64_t{i} * ch_->ring_stride);
  }
  vtrace_site_ops* site_ops() const {
    return reinterpret_cast<vtrace_site_ops*>(reinterpret_cast<char*>(ch_) + agg_offset_);
  }
  // Slot `slot` summed over every ring.
  uint64_t slot_total(uint32_t slot) const {
    auto* slots = reinterpret_cast<const uint64_t*>(reinterpret_cast<const char*>(ch_) +
                                                    agg_offset_ + sizeof(vtrace_site_ops));
    uint64_t n = 0;
    for (uint32_t i = 0; i < kRings; ++i) n += slots[i * kAggSlots + slot];
    return n;
  }
  uint64_t drops() const {
    uint64_t n = ch_->no_ring_drops;
    for (uint32_t i = 0; i < kRings; ++i) n += ring(i)->drops;
    return n;
  }

 private:
  void consume() {
    uint64_t volatile sink = 0;
    while (!stop_.load(std::memory_order_relaxed)) {
      ch_->heartbeat = ch_->heartbeat + 1;
      const bool sync = ch_->flags & VTRACE_CHAN_SYNC;
      for (uint32_t i = 0; i < kRings; ++i) {
        vtrace_ring* r = ring(i);
        const uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
        const uint64_t tail = r->tail;
        if (head == tail) continue;
        // Touch each record as a decoder would (its probe id), nothing more.
        for (uint64_t pos = tail; pos != head && pos - tail < kSlots; ++pos) {
          auto* rec =
              reinterpret_cast<vtrace_record*>(reinterpret_cast<char*>(r) + sizeof(vtrace_ring) +
                                               (pos & (kSlots - 1)) * VTRACE_RECORD_SIZE);
          sink = sink + rec->probe;
        }
        __atomic_store_n(&r->tail, head, __ATOMIC_RELEASE);
        if (sync) {
          __atomic_store_n(&r->done, head, __ATOMIC_SEQ_CST);
          __atomic_store_n(&r->done_futex, (uint32_t)head, __ATOMIC_SEQ_CST);
          if (__atomic_exchange_n(&r->waiting, 0u, __ATOMIC_SEQ_CST) != 0)
            syscall(SYS_futex, &r->done_futex, FUTEX_WAKE, 1, nullptr, nullptr, 0);
        }
      }
      // Sync: spin, the site is waiting. Async: poll every ~50 µs as a host's reader loop does;
      // a consumer spinning right behind the producer would bounce each record's cache lines.
      if (sync)
        __builtin_ia32_pause();
      else
        usleep(50);
    }
  }

  char path_[64] = {};
  uint64_t size_ = 0;
  uint64_t agg_offset_ = 0;
  vtrace_channel* ch_ = nullptr;
  std::thread consumer_;
  std::atomic<bool> stop_{false};
};

FakeHost host;
bool host_ok = false;

// Finds the descriptor of provider:name in this program's probe section and sets its flag.
bool set_enabled(const char* provider, const char* name, bool on) {
  bool found = false;
  for (vtrace_probe_desc* d = __start_vtrace_probes; d != nullptr && d < __stop_vtrace_probes;
       ++d) {
    if (d->magic != VTRACE_PROBE_MAGIC) continue;
    if (strcmp(d->provider, provider) == 0 && strcmp(d->name, name) == 0) {
      __atomic_store_n(&d->enabled, on ? 1u : 0u, __ATOMIC_RELEASE);
      found = true;
    }
  }
  return found;
}

void wait_drained(benchmark::State& state) {
  vtrace_ring* r = vtrace__ring;
  if (r == nullptr) return;
  state.PauseTiming();
  while (__atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) != r->head) std::this_thread::yield();
  state.ResumeTiming();
}

void BM_EmptyLoop(benchmark::State& state) {
  uint64_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(i);
    ++i;
  }
}
BENCHMARK(BM_EmptyLoop)->Repetitions(10)->ReportAggregatesOnly(true);

void BM_DisabledProbe(benchmark::State& state) {
  uint64_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(i);
    VTRACE_PROBE(bench, disabled, i, 2);
    ++i;
  }
}
BENCHMARK(BM_DisabledProbe)->Repetitions(10)->ReportAggregatesOnly(true);

void run_enabled(benchmark::State& state, bool sync, bool str) {
  if (!host_ok) {
    state.SkipWithError("no channel (could not create /dev/shm/vtrace.PID)");
    return;
  }
  host.set_sync(sync);
  const char* name = sync ? "sync" : str ? "async_str" : "async";
  set_enabled("bench", name, true);
  const uint64_t drops0 = host.drops();
  uint64_t i = 0;
  const char* path = "/api/items/42";
  for (auto _ : state) {
    // A tight loop writes faster than any consumer reads, and a full ring turns firings into
    // (cheaper) drops. Every half ring, stop the clock until the stand-in consumer has caught up,
    // so what is timed is the cost of writing a record.
    if ((i & (kSlots / 2 - 1)) == 0 && !sync) wait_drained(state);
    if (sync) {
      VTRACE_PROBE(bench, sync, i, 2);
    } else if (str) {
      VTRACE_PROBE_STR(bench, async_str, path, i);
    } else {
      VTRACE_PROBE(bench, async, i, 2);
    }
    ++i;
  }
  set_enabled("bench", name, false);
  host.set_sync(false);
  // Records dropped at the site (ring full or no ring): should be 0, else the time is too low.
  state.counters["drops"] = (double)(host.drops() - drops0);
}

void BM_EnabledAsyncProbe(benchmark::State& state) {
  run_enabled(state, false, false);
}
BENCHMARK(BM_EnabledAsyncProbe)->Repetitions(10)->ReportAggregatesOnly(true);

void BM_EnabledAsyncStrProbe(benchmark::State& state) {
  run_enabled(state, false, true);
}
BENCHMARK(BM_EnabledAsyncStrProbe)->Repetitions(10)->ReportAggregatesOnly(true);

void BM_SyncRoundTrip(benchmark::State& state) {
  run_enabled(state, true, false);
}
BENCHMARK(BM_SyncRoundTrip)->Repetitions(10)->ReportAggregatesOnly(true);

// Fires the "site" probe with its ops, set up by `fill` in the channel's first entry, for the
// benchmark's iterations; "lost" counts firings the slots did not count.
// (Not a template: a probe site in a template's instances would be a descriptor of each.)
void run_site_ops(benchmark::State& state, void (*fill)(vtrace_site_ops&)) {
  if (!host_ok) {
    state.SkipWithError("no channel (could not create /dev/shm/vtrace.PID)");
    return;
  }
  fill(*host.site_ops());
  const uint64_t before = host.slot_total(0);
  bool found = false;
  for (vtrace_probe_desc* d = __start_vtrace_probes; d != nullptr && d < __stop_vtrace_probes; ++d)
    if (d->magic == VTRACE_PROBE_MAGIC && strcmp(d->name, "site") == 0) {
      __atomic_store_n(&d->enabled, 1u << VTRACE_EN_OPS_SHIFT, __ATOMIC_RELEASE);
      found = true;
    }
  uint64_t i = 0, fired = 0;
  for (auto _ : state) {
    VTRACE_PROBE(bench, site, i, 2);
    ++i;
    ++fired;
  }
  set_enabled("bench", "site", false);
  // Every firing counted in the slots: a burst loses nothing.
  state.counters["lost"] = found ? (double)(fired - (host.slot_total(0) - before)) : -1;
}

void BM_SiteAggregation(benchmark::State& state) {
  run_site_ops(state, [](vtrace_site_ops& t) {
    t.nops = 2;
    t.ops[0] = {VTRACE_AGG_COUNT, 0, 0};
    t.ops[1] = {VTRACE_AGG_SUM, 0, 2};
  });
}
BENCHMARK(BM_SiteAggregation)->Repetitions(10)->ReportAggregatesOnly(true);

// The same with the predicate /arg0 >= 0 && arg1 == 2/ as two tests at the site (both hold).
void BM_SiteAggregationWithTests(benchmark::State& state) {
  run_site_ops(state, [](vtrace_site_ops& t) {
    t.nops = 4;
    t.ops[0] = {VTRACE_AGG_TEST | VTRACE_CMP_GE << 4 | 3u << 8, 0, 4};
    t.ops[1] = {VTRACE_AGG_TEST | VTRACE_CMP_EQ << 4 | 2u << 8, 1, 5};
    t.ops[2] = {VTRACE_AGG_COUNT, 0, 0};
    t.ops[3] = {VTRACE_AGG_SUM, 0, 2};
    const int64_t zero = 0, two = 2;
    std::memcpy(&t.ops[4], &zero, 8);
    std::memcpy(&t.ops[5], &two, 8);
  });
}
BENCHMARK(BM_SiteAggregationWithTests)->Repetitions(10)->ReportAggregatesOnly(true);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  host_ok = host.start();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  host.stop();
  return 0;
}
