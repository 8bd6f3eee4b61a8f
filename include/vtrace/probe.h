/*
 * vtrace probes for C and C++ programs. Include this header; nothing to link.
 *
 *   VTRACE_PROBE(myapp, request_start, id, size);      // 0 to 10 integer or pointer arguments
 *   VTRACE_PROBE_STR(myapp, query, sql, len);           // arg0 is a string copied at the site
 *   if (VTRACE_ENABLED(myapp, request_done)) { ... }    // guard expensive argument preparation
 *
 * In D the probe is PROVIDER:MODULE:FUNCTION:NAME with MODULE the executable's name, FUNCTION the
 * enclosing function, and "__" in NAME written as "-" (as dtrace does): request__start ->
 * request-start.
 *
 * Cost: a disabled probe is one load of its enable flag and a not-taken branch. A program that
 * is never traced does nothing else and creates nothing. When vtrace enables a probe, the first
 * firing maps the channel vtrace made (/dev/shm/vtrace.PID), claims a ring for its thread, and
 * from then on each firing writes one record into that ring (async mode), or writes it and waits
 * until vtrace has run the clauses (sync mode; the wait ends if vtrace stops answering).
 */
#ifndef VTRACE_PROBE_H
#define VTRACE_PROBE_H

#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "vtrace/channel_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#if !defined(__cplusplus) && !defined(_GNU_SOURCE)
extern int sched_getcpu(void); /* glibc has it; <sched.h> declares it only with _GNU_SOURCE */
#endif

/* ---- the probe macros ------------------------------------------------------------------- */

#define VTRACE_PROBE(provider, name, ...)                                                      \
  do {                                                                                         \
    static struct vtrace_probe_desc vtrace__d VTRACE__SECTION = {                              \
        VTRACE_PROBE_MAGIC, 0,       VTRACE__NARG(__VA_ARGS__), 0, __LINE__, #provider, #name, \
        __func__,           __FILE__};                                                         \
    if (__builtin_expect(vtrace__d.enabled, 0)) {                                              \
      const uint64_t vtrace__a[VTRACE_MAX_ARGS + 1] = {0, VTRACE__ARGS(__VA_ARGS__)};          \
      vtrace__fire(&vtrace__d, vtrace__a + 1, (const char*)0);                                 \
    }                                                                                          \
  } while (0)

#define VTRACE_PROBE_STR(provider, name, str, ...)                                              \
  do {                                                                                          \
    static struct vtrace_probe_desc vtrace__d VTRACE__SECTION = {VTRACE_PROBE_MAGIC,            \
                                                                 0,                             \
                                                                 1 + VTRACE__NARG(__VA_ARGS__), \
                                                                 VTRACE_DESC_STR0,              \
                                                                 __LINE__,                      \
                                                                 #provider,                     \
                                                                 #name,                         \
                                                                 __func__,                      \
                                                                 __FILE__};                     \
    if (__builtin_expect(vtrace__d.enabled, 0)) {                                               \
      const char* vtrace__s = (str);                                                            \
      const uint64_t vtrace__a[VTRACE_MAX_ARGS + 1] = {(uint64_t)(uintptr_t)vtrace__s,          \
                                                       VTRACE__ARGS(__VA_ARGS__)};              \
      vtrace__fire(&vtrace__d, vtrace__a, vtrace__s);                                           \
    }                                                                                           \
  } while (0)

/* True while probe provider:name is enabled at any of its sites. */
#define VTRACE_ENABLED(provider, name)                                    \
  __extension__({                                                         \
    static struct vtrace_probe_desc vtrace__g VTRACE__SECTION = {         \
        VTRACE_PROBE_MAGIC, 0,     0,        VTRACE_DESC_GUARD, __LINE__, \
        #provider,          #name, __func__, __FILE__};                   \
    __builtin_expect(vtrace__g.enabled != 0, 0);                          \
  })

/* ---- internals ---------------------------------------------------------------------------- */

#define VTRACE__SECTION __attribute__((section("vtrace_probes"), used, aligned(8)))
#define VTRACE__WEAK __attribute__((weak))

#if defined(__cplusplus) && __cplusplus >= 202002L
#define VTRACE__NARG(...) \
  VTRACE__NARG_(_ __VA_OPT__(, ) __VA_ARGS__, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#else /* GNU C and older C++: the comma before an empty __VA_ARGS__ is dropped by ## */
#define VTRACE__NARG(...) VTRACE__NARG_(_, ##__VA_ARGS__, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#endif
#define VTRACE__NARG_(_, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, n, ...) n
#define VTRACE__CAT(a, b) VTRACE__CAT_(a, b)
#define VTRACE__CAT_(a, b) a##b
#define VTRACE__A(x) (uint64_t)(uintptr_t)(x)
#define VTRACE__ARGS(...) VTRACE__CAT(VTRACE__ARGS_, VTRACE__NARG(__VA_ARGS__))(__VA_ARGS__)
#define VTRACE__ARGS_0()
#define VTRACE__ARGS_1(a) VTRACE__A(a)
#define VTRACE__ARGS_2(a, b) VTRACE__A(a), VTRACE__A(b)
#define VTRACE__ARGS_3(a, b, c) VTRACE__ARGS_2(a, b), VTRACE__A(c)
#define VTRACE__ARGS_4(a, b, c, d) VTRACE__ARGS_3(a, b, c), VTRACE__A(d)
#define VTRACE__ARGS_5(a, b, c, d, e) VTRACE__ARGS_4(a, b, c, d), VTRACE__A(e)
#define VTRACE__ARGS_6(a, b, c, d, e, f) VTRACE__ARGS_5(a, b, c, d, e), VTRACE__A(f)
#define VTRACE__ARGS_7(a, b, c, d, e, f, g) VTRACE__ARGS_6(a, b, c, d, e, f), VTRACE__A(g)
#define VTRACE__ARGS_8(a, b, c, d, e, f, g, h) VTRACE__ARGS_7(a, b, c, d, e, f, g), VTRACE__A(h)
#define VTRACE__ARGS_9(a, b, c, d, e, f, g, h, i) \
  VTRACE__ARGS_8(a, b, c, d, e, f, g, h), VTRACE__A(i)
#define VTRACE__ARGS_10(a, b, c, d, e, f, g, h, i, j) \
  VTRACE__ARGS_9(a, b, c, d, e, f, g, h, i), VTRACE__A(j)

/* Start of this executable's probe section; records name their probe by offset from it. */
extern struct vtrace_probe_desc __start_vtrace_probes[] __attribute__((weak, visibility("hidden")));

/* One mapping and one ring per thread for the whole program: weak, so every translation unit
 * that includes this header shares them. */
VTRACE__WEAK struct vtrace_channel* volatile vtrace__chan;
VTRACE__WEAK __thread struct vtrace_ring* vtrace__ring;
VTRACE__WEAK __thread struct vtrace_channel* vtrace__ring_chan;
VTRACE__WEAK __thread uint32_t vtrace__tid;
VTRACE__WEAK volatile uint32_t vtrace__gave_up; /* sync waits stopped: the tracer went away */
VTRACE__WEAK pthread_key_t vtrace__ring_key;
VTRACE__WEAK pthread_once_t vtrace__ring_once = PTHREAD_ONCE_INIT;

static inline struct vtrace_ring* vtrace__ring_at(struct vtrace_channel* ch, uint32_t i) {
  return (struct vtrace_ring*)((char*)ch + ch->ring_offset + (uint64_t)i * ch->ring_stride);
}

/* Maps /dev/shm/vtrace.PID if vtrace made one; NULL otherwise. */
VTRACE__WEAK struct vtrace_channel* vtrace__connect(void) {
  struct vtrace_channel* cur = vtrace__chan;
  if (cur != NULL && cur->attached) return cur;
  char path[64];
  snprintf(path, sizeof path, "/dev/shm/vtrace.%d", (int)getpid());
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return NULL;
  struct stat st;
  void* p = MAP_FAILED;
  if (fstat(fd, &st) == 0 && (uint64_t)st.st_size >= sizeof(struct vtrace_channel))
    p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (p == MAP_FAILED) return NULL;
  struct vtrace_channel* ch = (struct vtrace_channel*)p;
  if (ch->magic != VTRACE_CHANNEL_MAGIC || ch->version != VTRACE_ABI_VERSION ||
      ch->total_size > (uint64_t)st.st_size || ch->record_size != VTRACE_RECORD_SIZE ||
      ch->nrings == 0 || ch->nslots == 0 || (ch->nslots & (ch->nslots - 1)) != 0 || !ch->attached) {
    munmap(p, (size_t)st.st_size);
    return NULL;
  }
  /* A mapping of a channel the tracer left is never unmapped: another thread may still hold it. */
  if (__atomic_compare_exchange_n(&vtrace__chan, &cur, ch, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
    vtrace__gave_up = 0;
    return ch;
  }
  munmap(p, (size_t)st.st_size);
  return cur;
}

VTRACE__WEAK void vtrace__release_ring(void* ring) {
  __atomic_store_n(&((struct vtrace_ring*)ring)->owner_tid, 0, __ATOMIC_RELEASE);
}

VTRACE__WEAK void vtrace__make_key(void) {
  pthread_key_create(&vtrace__ring_key, vtrace__release_ring);
}

/* Claims a free ring for this thread (released when the thread exits). */
VTRACE__WEAK struct vtrace_ring* vtrace__claim(struct vtrace_channel* ch) {
  if (vtrace__tid == 0) vtrace__tid = (uint32_t)syscall(SYS_gettid);
  for (uint32_t i = 0; i < ch->nrings; ++i) {
    struct vtrace_ring* r = vtrace__ring_at(ch, i);
    uint32_t expected = 0;
    if (r->owner_tid == 0 && __atomic_compare_exchange_n(&r->owner_tid, &expected, vtrace__tid, 0,
                                                         __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
      /* Fault the ring in now (Linux 5.14+; ignored elsewhere), not one page per record. */
      madvise(r, (size_t)ch->ring_stride, 23 /* MADV_POPULATE_WRITE */);
      vtrace__ring = r;
      vtrace__ring_chan = ch;
      pthread_once(&vtrace__ring_once, vtrace__make_key);
      pthread_setspecific(vtrace__ring_key, r);
      return r;
    }
  }
  __atomic_fetch_add(&ch->no_ring_drops, 1, __ATOMIC_RELAXED);
  return NULL;
}

/* Sync mode: wait until the host has processed position `pos`, or it stops answering. */
VTRACE__WEAK void vtrace__wait_done(struct vtrace_channel* ch, struct vtrace_ring* r,
                                    uint64_t pos) {
  const int spins = (ch->flags & VTRACE_CHAN_NO_SPIN) ? 0 : 20000;
  for (int i = 0; i < spins; ++i) {
    if (__atomic_load_n(&r->done, __ATOMIC_ACQUIRE) > pos) return;
    __builtin_ia32_pause();
  }
  uint64_t beat = ch->heartbeat;
  int stalls = 0;
  while (__atomic_load_n(&r->done, __ATOMIC_ACQUIRE) <= pos) {
    if (!ch->attached || vtrace__gave_up) return;
    __atomic_store_n(&r->waiting, 1, __ATOMIC_SEQ_CST);
    uint32_t seen = __atomic_load_n(&r->done_futex, __ATOMIC_ACQUIRE);
    if (__atomic_load_n(&r->done, __ATOMIC_ACQUIRE) > pos) break;
    struct timespec ts = {0, 20 * 1000 * 1000};
    syscall(SYS_futex, &r->done_futex, FUTEX_WAIT, seen, &ts, NULL, 0);
    uint64_t now_beat = ch->heartbeat;
    if (now_beat != beat) {
      beat = now_beat;
      stalls = 0;
    } else if (++stalls >= 50) { /* about a second without a heartbeat: the tracer is gone */
      vtrace__gave_up = 1;
      return;
    }
  }
}

VTRACE__WEAK void vtrace__fire(struct vtrace_probe_desc* d, const uint64_t* args, const char* str) {
  struct vtrace_channel* ch = vtrace__chan;
  if (ch == NULL || !ch->attached) {
    ch = vtrace__connect();
    if (ch == NULL) return;
  }
  struct vtrace_ring* r = vtrace__ring;
  if (r == NULL || vtrace__ring_chan != ch) {
    r = vtrace__claim(ch);
    if (r == NULL) return;
  }
  const uint64_t pos = r->head;
  const uint64_t queued = pos - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
  if (queued >= ch->nslots) {
    __atomic_fetch_add(&r->drops, 1, __ATOMIC_RELAXED);
    return;
  }
  struct vtrace_record* rec =
      (struct vtrace_record*)((char*)r + sizeof(struct vtrace_ring) +
                              (pos & (ch->nslots - 1)) * VTRACE_RECORD_SIZE);
  uint16_t nargs = d->nargs > VTRACE_MAX_ARGS ? VTRACE_MAX_ARGS : d->nargs;
  const uint32_t inflight = ch->flags & VTRACE_CHAN_INFLIGHT;
  if (inflight) {
    /* Visible before the stamp is taken: a consumer that reads writing == 0 knows no record
     * stamped before its read is still unpublished. */
    __atomic_exchange_n(&r->writing, 1u, __ATOMIC_SEQ_CST);
#if defined(__x86_64__)
    __builtin_ia32_lfence();
#endif
  }
  uint64_t stamp;
#if defined(__x86_64__)
  if (ch->flags & VTRACE_CHAN_TSC) {
    stamp = __builtin_ia32_rdtsc(); /* ~8 ns; the host translates it to CLOCK_MONOTONIC */
  } else
#endif
  {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    stamp = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
  }
  rec->probe = (uint32_t)((char*)d - (char*)__start_vtrace_probes);
  rec->tid = vtrace__tid;
  rec->cpu = (uint32_t)sched_getcpu();
  rec->nargs = nargs;
  rec->timestamp = stamp;
  rec->seq = pos;
  memcpy(rec->args, args, (size_t)nargs * sizeof(uint64_t));
  rec->tail_len = 0;
  if (str != NULL) {
    size_t cap = VTRACE_TAIL_SIZE - 1, n = strnlen(str, cap + 1);
    if (n > cap) { /* cut, and say so: the copy ends in "..." */
      memcpy(rec->tail, str, cap - 3);
      memcpy(rec->tail + cap - 3, "...", 3);
      n = cap;
    } else {
      memcpy(rec->tail, str, n);
    }
    rec->tail[n] = '\0';
    rec->tail_len = (uint16_t)(n + 1);
  }
  __atomic_store_n(&r->head, pos + 1, __ATOMIC_RELEASE);
  if (inflight) __atomic_store_n(&r->writing, 0u, __ATOMIC_RELEASE);
  if (queued == ch->nslots / 2 && __atomic_load_n(&ch->host_sleeping, __ATOMIC_SEQ_CST)) {
    __atomic_fetch_add(&ch->doorbell, 1, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, &ch->doorbell, FUTEX_WAKE, 1, NULL, NULL, 0);
  }
  if ((ch->flags & VTRACE_CHAN_SYNC) && !vtrace__gave_up) vtrace__wait_done(ch, r, pos);
}

/* vtrace -c starts the program with VTRACE_WAIT set: before main() runs, wait (bounded) until
 * vtrace has enabled the probes, so no firing is missed. */
VTRACE__WEAK void vtrace__startup(void) {
  static int started;
  if (started) return;
  started = 1;
  if (getenv("VTRACE_WAIT") == NULL) return;
  unsetenv("VTRACE_WAIT"); /* not for the program's own children */
  struct vtrace_channel* ch = vtrace__connect();
  if (ch == NULL) return;
  __atomic_store_n(&ch->client_pid, (uint32_t)getpid(), __ATOMIC_RELEASE);
  for (int i = 0; i < 500 && !__atomic_load_n(&ch->go, __ATOMIC_ACQUIRE); ++i) {
    struct timespec ts = {0, 20 * 1000 * 1000};
    syscall(SYS_futex, &ch->go, FUTEX_WAIT, 0, &ts, NULL, 0);
  }
}

static void __attribute__((constructor, used)) vtrace__ctor(void) {
  vtrace__startup();
}

#ifdef __cplusplus
}
#endif

#endif /* VTRACE_PROBE_H */
