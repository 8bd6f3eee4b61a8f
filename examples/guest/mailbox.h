// The mailbox order_send and order_recv share: the first bytes of the memory that
// `vtrace vm start --share NAME` gives every VM started with that NAME (ivshmem BAR2 at PCI
// 0000:00:05.0), or, for tests on the host, the file $VTRACE_MAILBOX names.
//
// Protocol (either program may start first, and runs repeat on the same memory): the sender
// writes a fresh hello value (top bit set, random low bits) to seq and waits until ack equals it;
// the receiver acks any hello it sees (and starts over at 1). Then for n = 1..N the sender
// writes n to seq and waits for ack == n. A stale seq or ack of an earlier run never matches a
// fresh hello, so nothing of an old run is taken as new.
#pragma once
#include <sched.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "pci_bar.h"

namespace vtrace_guest {

struct Mailbox {
  volatile uint64_t seq;  // sender
  char pad0[56];
  volatile uint64_t ack;  // receiver
  char pad1[56];
};

inline constexpr uint64_t kHelloBit = 1ull << 63;
inline constexpr const char* kSharePci = "0000:00:05.0";

inline uint64_t load(volatile uint64_t* p) {
  return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
inline void store(volatile uint64_t* p, uint64_t v) {
  __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

inline double now_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Maps the mailbox or exits with a message naming the program.
inline Mailbox* map_mailbox(const char* prog) {
  const char* file = std::getenv("VTRACE_MAILBOX");
  Region r = file && *file ? map_file(file, 4096) : map_ivshmem_bar(kSharePci, 2);
  if (!r.base) {
    std::fprintf(stderr, "%s: %s%s\n", prog, r.error.c_str(),
                 file && *file ? ""
                               : " (start the VMs with `vtrace vm start --share NAME`, or set "
                                 "$VTRACE_MAILBOX to a file)");
    std::exit(1);
  }
  if (r.size < sizeof(Mailbox)) {
    std::fprintf(stderr, "%s: the shared memory is too small\n", prog);
    std::exit(1);
  }
  return static_cast<Mailbox*>(r.base);
}

// Parses "N [--timeout SECONDS]"; exits 2 with usage on anything else.
inline void parse_args(int argc, char** argv, uint64_t* n, double* timeout_s) {
  bool have_n = false, ok = true;
  for (int i = 1; ok && i < argc; ++i) {
    std::string a = argv[i];
    char* end = nullptr;
    if (a == "--timeout" && i + 1 < argc) {
      *timeout_s = std::strtod(argv[++i], &end);
      ok = *end == '\0' && *timeout_s > 0;
    } else if (!have_n && !a.empty() && a[0] != '-') {
      *n = std::strtoull(a.c_str(), &end, 10);
      ok = have_n = *end == '\0' && *n > 0 && *n < kHelloBit;
    } else {
      ok = false;
    }
  }
  if (!ok || !have_n) {
    std::fprintf(stderr, "usage: %s N [--timeout SECONDS]\n", argv[0]);
    std::exit(2);
  }
}

}  // namespace vtrace_guest
