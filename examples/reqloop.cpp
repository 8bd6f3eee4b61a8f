// reqloop: a small request-processing loop instrumented with vtrace probes
// (include/vtrace/probe.h).
//
//   reqloop [N] [--threads T] [--sleep-before-ms MS] [--verbose]
//
// Processes N requests (default 1000), split over T threads (default 1). Each request fires
//   reqloop:reqloop:handle_request:request-start   arg0 = id, arg1 = size
//   reqloop:reqloop:handle_request:request-path    arg0 = path (a copied string), arg1 = id
//   reqloop:reqloop:handle_request:request-done    arg0 = id, arg1 = status
// and does deterministic work whose length depends on the request: a busy loop proportional to
// its size, plus a short sleep for every 16th request, so latencies spread over a few µs to a
// few hundred µs. --sleep-before-ms waits before the first request (time to attach with -p).
//
// Try it:  vtrace -s examples/reqloop_latency.d -c './reqloop 2000'
// Untraced it prints nothing (unless --verbose) and creates nothing.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <thread>
#include <vector>

#include "vtrace/probe.h"

namespace {

struct Range {
  uint64_t first, last;  // request ids [first, last)
};

uint64_t request_size(uint64_t id) {
  return 64 + (id * 2654435761u) % 4032;  // 64..4095 bytes, spread deterministically
}

int request_status(uint64_t id) {
  if (id % 17 == 0) return 500;
  if (id % 5 == 0) return 404;
  return 200;
}

void sleep_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

// The "work": a hash over `size * 16` steps, whose result feeds the status check so it is kept.
uint64_t busy_work(uint64_t size) {
  uint64_t x = size | 1;
  for (uint64_t i = 0; i < size * 16; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  return x;
}

uint64_t handle_request(uint64_t id) {
  const uint64_t size = request_size(id);
  VTRACE_PROBE(reqloop, request__start, id, size);

  char path[64];
  switch (id % 4) {
    case 0:
      snprintf(path, sizeof path, "/api/items/%u", (unsigned)(id % 5));
      break;
    case 1:
      snprintf(path, sizeof path, "/api/users/%u", (unsigned)(id % 3));
      break;
    case 2:
      snprintf(path, sizeof path, "/api/items/%u", (unsigned)(id % 5));
      break;
    default:
      snprintf(path, sizeof path, "/health");
      break;
  }
  VTRACE_PROBE_STR(reqloop, request__path, path, id);

  uint64_t h = busy_work(size);
  if (id % 16 == 7) sleep_us(50 + (long)(id % 5) * 20);  // a slow backend call now and then
  const int status = request_status(id);
  VTRACE_PROBE(reqloop, request__done, id, status);
  return h + (uint64_t)status;
}

void worker(Range r, uint64_t* out) {
  uint64_t sum = 0;
  for (uint64_t id = r.first; id < r.last; ++id) sum += handle_request(id);
  *out = sum;
}

[[noreturn]] void usage(const char* msg) {
  if (msg != nullptr) fprintf(stderr, "reqloop: %s\n", msg);
  fprintf(stderr, "usage: reqloop [N] [--threads T] [--sleep-before-ms MS] [--verbose]\n");
  exit(2);
}

uint64_t number(const char* s) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || s[0] == '-') usage("not a number");
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t n = 1000, threads = 1, sleep_before_ms = 0;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
      threads = number(argv[++i]);
    } else if (strcmp(argv[i], "--sleep-before-ms") == 0 && i + 1 < argc) {
      sleep_before_ms = number(argv[++i]);
    } else if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0) {
      verbose = true;
    } else if (argv[i][0] != '-') {
      n = number(argv[i]);
    } else {
      usage(nullptr);
    }
  }
  if (threads == 0 || threads > 256) usage("--threads must be 1..256");
  if (sleep_before_ms > 0) sleep_us((long)sleep_before_ms * 1000);

  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  std::vector<uint64_t> sums(threads);
  if (threads == 1) {
    worker({0, n}, &sums[0]);
  } else {
    std::vector<std::thread> pool;
    for (uint64_t t = 0; t < threads; ++t)
      pool.emplace_back(worker, Range{n * t / threads, n * (t + 1) / threads}, &sums[t]);
    for (auto& th : pool) th.join();
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);

  if (verbose) {
    uint64_t sum = 0;
    for (uint64_t s : sums) sum += s;
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    printf("reqloop: %llu requests on %llu thread(s) in %.2f ms (checksum %016llx)\n",
           (unsigned long long)n, (unsigned long long)threads, ms, (unsigned long long)sum);
  }
  return 0;
}
