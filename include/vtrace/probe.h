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
 * is never traced does nothing else (it registers a fork handler at start-up) and creates
 * nothing. When vtrace enables a probe, the first firing maps the channel vtrace made
 * (/dev/shm/vtrace.PID), claims a ring for its thread, and from then on each firing writes one
 * record into that ring (async mode), or writes it and waits until vtrace has run the clauses
 * (sync mode; the wait ends if vtrace stops answering).
 *
 * Trust: the channel is used only if it is a regular file (never a symlink) owned by the
 * process's euid and private to it, with a geometry that fits the file; otherwise the probes
 * stay off. Without a channel a site looks again at most every 50 ms. A forked child's probes
 * go off and it forgets its parent's channel (a tracer may attach to the child itself).
 */
#ifndef VTRACE_PROBE_H
#define VTRACE_PROBE_H

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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

#define VTRACE_PROBE(provider, name, ...)                                                 \
  do {                                                                                    \
    VTRACE__DESC(vtrace__d, provider, name, VTRACE__NARG(__VA_ARGS__), VTRACE__DESC_OPS); \
    if (__builtin_expect(vtrace__d->enabled, 0)) {                                        \
      const uint64_t vtrace__a[VTRACE_MAX_ARGS + 1] = {0, VTRACE__ARGS(__VA_ARGS__)};     \
      vtrace__fire2(vtrace__d, vtrace__a + 1, (const char*)0);                            \
    }                                                                                     \
  } while (0)

#define VTRACE_PROBE_STR(provider, name, str, ...)                                     \
  do {                                                                                 \
    VTRACE__DESC(vtrace__d, provider, name, 1 + VTRACE__NARG(__VA_ARGS__),             \
                 VTRACE_DESC_STR0 | VTRACE__DESC_OPS);                                 \
    if (__builtin_expect(vtrace__d->enabled, 0)) {                                     \
      const char* vtrace__s = (str);                                                   \
      const uint64_t vtrace__a[VTRACE_MAX_ARGS + 1] = {(uint64_t)(uintptr_t)vtrace__s, \
                                                       VTRACE__ARGS(__VA_ARGS__)};     \
      vtrace__fire2(vtrace__d, vtrace__a, vtrace__s);                                  \
    }                                                                                  \
  } while (0)

/* True while probe provider:name is enabled at any of its sites. */
#define VTRACE_ENABLED(provider, name)                             \
  __extension__({                                                  \
    VTRACE__DESC(vtrace__g, provider, name, 0, VTRACE_DESC_GUARD); \
    __builtin_expect(vtrace__g->enabled != 0, 0);                  \
  })

/* ---- internals ---------------------------------------------------------------------------- */

/* What this header's sites run of the site ops (vtrace__run_ops). */
#define VTRACE__DESC_OPS (VTRACE_DESC_AGG | VTRACE_DESC_TEST)
/* `var`, a pointer to the site's descriptor in the probe section. On x86-64 the descriptor is
 * written by the assembler: GCC puts a static of a C++ template's function in a section of its
 * own whatever its section attribute says, which would hide the probe. (Each inlined copy of a
 * site then has a descriptor of its own.) The layout is struct vtrace_probe_desc's, checked
 * below. */
#if defined(__x86_64__) && defined(__LP64__)
#define VTRACE__DESC(var, provider, name, nargs, flags)                                 \
  struct vtrace_probe_desc* var;                                                        \
  __asm__(                                                                              \
      ".pushsection vtrace_probes, \"aw\"\n\t.balign 8\n771:\n\t"                       \
      ".4byte %c1, 0\n\t.2byte %c2, %c3\n\t.4byte %c4\n\t.8byte %c5, %c6, %c7, %c8\n\t" \
      ".popsection\n\tleaq 771b(%%rip), %0"                                             \
      : "=r"(var)                                                                       \
      : "i"(VTRACE_PROBE_MAGIC), "i"(nargs), "i"(flags), "i"(__LINE__), "i"(#provider), \
        "i"(#name), "i"(__func__), "i"(__FILE__))
#else
#define VTRACE__DESC(var, provider, name, nargs, flags)                                         \
  static struct vtrace_probe_desc var##_ __attribute__((section("vtrace_probes"), used,         \
                                                        aligned(8))) = {                        \
      VTRACE_PROBE_MAGIC, 0, (nargs), (flags), __LINE__, #provider, #name, __func__, __FILE__}; \
  struct vtrace_probe_desc* var = &var##_
#endif
#if defined(__x86_64__) && defined(__LP64__) /* the layout the assembler writes */
#ifdef __cplusplus
#define VTRACE__ASSERT(c) static_assert(c, #c)
#else
#define VTRACE__ASSERT(c) _Static_assert(c, #c)
#endif
VTRACE__ASSERT(offsetof(struct vtrace_probe_desc, line) == 12);
VTRACE__ASSERT(offsetof(struct vtrace_probe_desc, provider) == 16);
VTRACE__ASSERT(offsetof(struct vtrace_probe_desc, file) == 40);
VTRACE__ASSERT(sizeof(struct vtrace_probe_desc) == 48);
#endif
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

extern struct vtrace_probe_desc __stop_vtrace_probes[] __attribute__((weak, visibility("hidden")));

/* One channel as this process checked it when it mapped it. Sites use these copies of the
 * geometry, never the values in the file, and a thread's ring belongs to one link. A link and its
 * mapping live until the process ends (another thread may still hold them), or until fork() in
 * the child. */
struct vtrace__link {
  struct vtrace_channel* ch;
  uint64_t size; /* bytes mapped */
  uint64_t ring_offset;
  uint64_t ring_stride;
  uint32_t nrings;
  uint32_t nslots;           /* a power of two */
  uint64_t agg_offset;       /* site ops table, then each ring's aggregation slots */
  uint32_t nsite_ops;        /* entries of the table (0: none) */
  uint32_t agg_slots;        /* per ring */
  uint64_t dev, ino;         /* the file, for the clean-up at exit */
  struct vtrace__link* prev; /* links of earlier tracers */
};

/* One link and one ring per thread for the whole program: weak, so every translation unit that
 * includes this header shares them. */
VTRACE__WEAK struct vtrace__link* volatile vtrace__current;
VTRACE__WEAK __thread struct vtrace_ring* vtrace__ring;
VTRACE__WEAK __thread struct vtrace__link* vtrace__ring_link;
VTRACE__WEAK __thread uint32_t vtrace__ring_index; /* of vtrace__ring in its link */
VTRACE__WEAK __thread uint32_t vtrace__tid;
VTRACE__WEAK volatile uint32_t vtrace__gave_up;      /* sync waits stopped: the tracer went away */
VTRACE__WEAK volatile uint64_t vtrace__gave_up_beat; /* the host heartbeat when they stopped */
/* No look for a channel before this (CLOCK_MONOTONIC_COARSE ns): a site whose tracer left does
 * not open a file on every firing. */
VTRACE__WEAK volatile uint64_t vtrace__next_look;
VTRACE__WEAK volatile uint32_t vtrace__exit_hook; /* the clean-up at exit is registered */
VTRACE__WEAK pthread_key_t vtrace__ring_key;
VTRACE__WEAK volatile uint32_t vtrace__key_made;
VTRACE__WEAK pthread_once_t vtrace__ring_once = PTHREAD_ONCE_INIT;

#define VTRACE__LOOK_NS 50000000ull   /* between two looks for a channel */
#define VTRACE__DEAD_RING 0xffffffffu /* owner_tid of a ring the file system cannot hold */

VTRACE__WEAK void vtrace__channel_path(char* path, size_t size) {
  snprintf(path, size, "/dev/shm/vtrace.%d", (int)getpid());
}

/* The file a tracer made for this process: a regular file (not a link), owned by this process's
 * euid (the tracer gives it to the process), private to that user. Anything else may be another
 * user's. */
VTRACE__WEAK int vtrace__file_ok(const struct stat* st) {
  return S_ISREG(st->st_mode) && st->st_uid == geteuid() && (st->st_mode & 077) == 0 &&
         st->st_nlink == 1 && (uint64_t)st->st_size >= sizeof(struct vtrace_channel) &&
         (uint64_t)st->st_size <= (uint64_t)SIZE_MAX;
}

/* True when a channel header (a private copy) describes rings that lie within `size` bytes. */
VTRACE__WEAK int vtrace__geometry_ok(const struct vtrace_channel* h, uint64_t size) {
  uint64_t rings_bytes, rings_end;
  if (h->magic != VTRACE_CHANNEL_MAGIC || h->version != VTRACE_ABI_VERSION ||
      h->record_size != VTRACE_RECORD_SIZE || h->attached == 0)
    return 0;
  if (h->nrings == 0 || h->nrings > VTRACE_MAX_RINGS || h->nslots < 2 ||
      h->nslots > VTRACE_MAX_SLOTS || (h->nslots & (h->nslots - 1)) != 0)
    return 0;
  if (h->ring_offset < sizeof(struct vtrace_channel) || h->ring_offset % VTRACE_RING_ALIGN != 0 ||
      h->ring_stride % VTRACE_RING_ALIGN != 0 ||
      h->ring_stride < sizeof(struct vtrace_ring) + (uint64_t)h->nslots * VTRACE_RECORD_SIZE)
    return 0;
  if (__builtin_mul_overflow((uint64_t)h->nrings, h->ring_stride, &rings_bytes) ||
      __builtin_add_overflow(rings_bytes, (uint64_t)h->ring_offset, &rings_end))
    return 0;
  if (h->total_size > size || rings_end > h->total_size) return 0;
  if (h->nsite_ops != 0) { /* the site aggregation area: after the rings, within the file */
    uint64_t slots_bytes, area_end;
    if (h->nsite_ops > VTRACE_MAX_SITE_ENTRIES || h->agg_slots < 2 ||
        h->agg_slots > VTRACE_MAX_AGG_SLOTS || h->agg_offset % VTRACE_RING_ALIGN != 0 ||
        h->agg_offset < rings_end)
      return 0;
    slots_bytes = (uint64_t)h->nrings * h->agg_slots * 8u; /* < 2^37: no overflow */
    if (__builtin_add_overflow(
            h->agg_offset, (uint64_t)h->nsite_ops * sizeof(struct vtrace_site_ops) + slots_bytes,
            &area_end) ||
        area_end > h->total_size)
      return 0;
  }
  return 1;
}

/* Maps /dev/shm/vtrace.PID if vtrace made one and it checks out (file and geometry, before any
 * access beyond the header); NULL otherwise. */
VTRACE__WEAK struct vtrace__link* vtrace__open_link(void) {
  char path[64];
  struct stat st;
  struct vtrace_channel hdr;
  struct vtrace__link* l;
  void* p = MAP_FAILED;
  vtrace__channel_path(path, sizeof path);
  int fd = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return NULL;
  if (fstat(fd, &st) == 0 && vtrace__file_ok(&st))
    p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (p == MAP_FAILED) return NULL;
  /* The tracer writes the magic last: a header with it is complete. */
  if (__atomic_load_n(&((struct vtrace_channel*)p)->magic, __ATOMIC_ACQUIRE) !=
      VTRACE_CHANNEL_MAGIC) {
    munmap(p, (size_t)st.st_size);
    return NULL;
  }
  memcpy(&hdr, p, sizeof hdr);
  l = (struct vtrace__link*)MAP_FAILED;
  if (vtrace__geometry_ok(&hdr, (uint64_t)st.st_size))
    l = (struct vtrace__link*)mmap(NULL, sizeof *l, PROT_READ | PROT_WRITE,
                                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (l == (struct vtrace__link*)MAP_FAILED) {
    munmap(p, (size_t)st.st_size);
    return NULL;
  }
  l->ch = (struct vtrace_channel*)p;
  l->size = (uint64_t)st.st_size;
  l->ring_offset = hdr.ring_offset;
  l->ring_stride = hdr.ring_stride;
  l->nrings = hdr.nrings;
  l->nslots = hdr.nslots;
  l->agg_offset = hdr.agg_offset;
  l->nsite_ops = hdr.nsite_ops;
  l->agg_slots = hdr.agg_slots;
  l->dev = (uint64_t)st.st_dev;
  l->ino = (uint64_t)st.st_ino;
  l->prev = NULL;
  return l;
}

/* At exit: a channel whose tracer died (its lock is free) is removed, so a killed vtrace leaves
 * no file behind once its process ends. A live tracer holds the lock and removes it itself. */
VTRACE__WEAK void vtrace__at_exit(void) {
  struct vtrace__link* l = vtrace__current;
  char path[64];
  struct stat st;
  if (l == NULL) return;
  vtrace__channel_path(path, sizeof path);
  int fd = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return;
  if (fstat(fd, &st) == 0 && (uint64_t)st.st_dev == l->dev && (uint64_t)st.st_ino == l->ino &&
      flock(fd, LOCK_EX | LOCK_NB) == 0)
    unlink(path);
  close(fd);
}

/* Looks for a channel now; the current link if another thread found one first. */
VTRACE__WEAK struct vtrace__link* vtrace__look(struct vtrace__link* cur) {
  struct vtrace__link* l = vtrace__open_link();
  if (l == NULL) return NULL;
  l->prev = cur;
  if (__atomic_compare_exchange_n(&vtrace__current, &cur, l, 0, __ATOMIC_ACQ_REL,
                                  __ATOMIC_ACQUIRE)) {
    vtrace__gave_up = 0;
    if (__atomic_exchange_n(&vtrace__exit_hook, 1u, __ATOMIC_ACQ_REL) == 0) atexit(vtrace__at_exit);
    return l;
  }
  munmap(l->ch, (size_t)l->size);
  munmap(l, sizeof *l);
  return cur;
}

/* The attached channel, or one found now; NULL when none. Looks at most once per
 * VTRACE__LOOK_NS, whatever the firing rate. */
VTRACE__WEAK struct vtrace__link* vtrace__connect(void) {
  struct vtrace__link* cur = vtrace__current;
  struct timespec ts;
  uint64_t now, next;
  if (cur != NULL && cur->ch->attached) return cur;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
  next = __atomic_load_n(&vtrace__next_look, __ATOMIC_RELAXED);
  if (now < next || !__atomic_compare_exchange_n(&vtrace__next_look, &next, now + VTRACE__LOOK_NS,
                                                 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
    return NULL;
  return vtrace__look(cur);
}

/* fork(): the child is another process. It is not traced by its parent's tracer (as dtrace's
 * fasttrap removes probes from a forked child): its probes go off and it forgets the parent's
 * channels, so it writes nothing under the parent's pid and is traced as itself or not at all. */
VTRACE__WEAK void vtrace__forked(void) {
  struct vtrace__link* l = vtrace__current;
  struct vtrace_probe_desc* d;
  for (d = __start_vtrace_probes; d != NULL && d < __stop_vtrace_probes; ++d)
    if (d->magic == VTRACE_PROBE_MAGIC) d->enabled = 0;
  /* The forking thread's ring is its parent's: never released from here. */
  if (vtrace__key_made) pthread_setspecific(vtrace__ring_key, NULL);
  vtrace__ring = NULL;
  vtrace__ring_link = NULL;
  vtrace__tid = 0;
  vtrace__current = NULL;
  vtrace__gave_up = 0;
  vtrace__next_look = 0;
  while (l != NULL) { /* the child is single-threaded now: nobody else holds them */
    struct vtrace__link* prev = l->prev;
    munmap(l->ch, (size_t)l->size);
    munmap(l, sizeof *l);
    l = prev;
  }
}

VTRACE__WEAK void vtrace__release_ring(void* ring) {
  __atomic_store_n(&((struct vtrace_ring*)ring)->owner_tid, 0, __ATOMIC_RELEASE);
}

VTRACE__WEAK void vtrace__make_key(void) {
  if (pthread_key_create(&vtrace__ring_key, vtrace__release_ring) == 0) vtrace__key_made = 1;
}

/* Claims a free ring of `l` for this thread (released when the thread exits). */
VTRACE__WEAK struct vtrace_ring* vtrace__claim(struct vtrace__link* l) {
  if (vtrace__tid == 0) vtrace__tid = (uint32_t)syscall(SYS_gettid);
  for (uint32_t i = 0; i < l->nrings; ++i) {
    struct vtrace_ring* r =
        (struct vtrace_ring*)((char*)l->ch + l->ring_offset + (uint64_t)i * l->ring_stride);
    uint32_t expected = 0;
    if (r->owner_tid == 0 && __atomic_compare_exchange_n(&r->owner_tid, &expected, vtrace__tid, 0,
                                                         __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
      /* Back the ring with memory now (MADV_POPULATE_WRITE, Linux 5.14+), not one page per
       * record. Where the file system is full that fails, and the ring stays unused for good: a
       * write to it would SIGBUS the program. EINVAL: a kernel that cannot tell. */
      const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
      const uintptr_t start = (uintptr_t)r & ~(page - 1);
      if (madvise((void*)start, (size_t)((uintptr_t)r + l->ring_stride - start), 23) != 0 &&
          errno != EINVAL) {
        __atomic_store_n(&r->owner_tid, VTRACE__DEAD_RING, __ATOMIC_RELEASE);
        continue;
      }
      vtrace__ring = r;
      vtrace__ring_link = l;
      vtrace__ring_index = i;
      pthread_once(&vtrace__ring_once, vtrace__make_key);
      if (vtrace__key_made) pthread_setspecific(vtrace__ring_key, r);
      return r;
    }
  }
  __atomic_fetch_add(&l->ch->no_ring_drops, 1, __ATOMIC_RELAXED);
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
      vtrace__gave_up_beat = now_beat;
      vtrace__gave_up = 1;
      return;
    }
  }
}

/* args[arg] CMP k (VTRACE_CMP_*); an unknown comparison holds (it tests nothing). */
static inline int vtrace__test(uint32_t cmp, uint64_t a, uint64_t k) {
  switch (cmp) {
    case VTRACE_CMP_EQ:
      return a == k;
    case VTRACE_CMP_NE:
      return a != k;
    case VTRACE_CMP_LT:
      return (int64_t)a < (int64_t)k;
    case VTRACE_CMP_LE:
      return (int64_t)a <= (int64_t)k;
    case VTRACE_CMP_GT:
      return (int64_t)a > (int64_t)k;
    case VTRACE_CMP_GE:
      return (int64_t)a >= (int64_t)k;
    case VTRACE_CMP_LTU:
      return a < k;
    case VTRACE_CMP_LEU:
      return a <= k;
    case VTRACE_CMP_GTU:
      return a > k;
    case VTRACE_CMP_GEU:
      return a >= k;
    default:
      return 1;
  }
}

/* Runs entry `entry` of the channel's site ops table on `args` into this thread's slots (ring
 * `ring`): only this thread writes them, so plain adds; each store is one untorn 64-bit write for
 * the tracer, which reads n last-written-first (value, then n released). A test that fails skips
 * the ops it guards.
 * The weak functions here are named anew when what a site runs changes (vtrace__fire2: tests),
 * so a program whose objects were built with two versions of this header runs each site with
 * its own version. */
VTRACE__WEAK void vtrace__run_ops(const struct vtrace__link* l, uint32_t ring, uint32_t entry,
                                  const uint64_t* args) {
  const struct vtrace_site_ops* t;
  uint64_t* slots;
  uint32_t nops;
  if (entry >= l->nsite_ops) return;
  t = (const struct vtrace_site_ops*)((char*)l->ch + l->agg_offset) + entry;
  slots = (uint64_t*)((char*)l->ch + l->agg_offset +
                      (uint64_t)l->nsite_ops * sizeof(struct vtrace_site_ops)) +
          (uint64_t)ring * l->agg_slots;
  nops = t->nops < VTRACE_MAX_SITE_OPS ? t->nops : VTRACE_MAX_SITE_OPS;
  for (uint32_t i = 0; i < nops; ++i) {
    const struct vtrace_agg_op op = t->ops[i];
    uint64_t* s;
    uint64_t v, n;
    if ((op.kind & 0xfu) == VTRACE_AGG_TEST) {
      uint64_t k;
      if (op.slot >= VTRACE_MAX_SITE_OPS || op.arg >= VTRACE_MAX_ARGS) continue;
      __builtin_memcpy(&k, &t->ops[op.slot], sizeof k);
      if (!vtrace__test((op.kind >> 4) & 0xfu, args[op.arg], k)) i += (op.kind >> 8) & 0xffu;
      continue;
    }
    if (op.slot >= l->agg_slots - 1 || op.arg >= VTRACE_MAX_ARGS) continue;
    s = slots + op.slot;
    v = args[op.arg];
    n = s[0];
    switch (op.kind) {
      case VTRACE_AGG_SUM:
        __atomic_store_n(&s[1], s[1] + v, __ATOMIC_RELAXED);
        break;
      case VTRACE_AGG_MIN:
        if (n == 0 || (int64_t)v < (int64_t)s[1]) __atomic_store_n(&s[1], v, __ATOMIC_RELAXED);
        break;
      case VTRACE_AGG_MAX:
        if (n == 0 || (int64_t)v > (int64_t)s[1]) __atomic_store_n(&s[1], v, __ATOMIC_RELAXED);
        break;
      default:
        break;
    }
    __atomic_store_n(&s[0], n + 1, __ATOMIC_RELEASE);
  }
}

VTRACE__WEAK void vtrace__fire2(struct vtrace_probe_desc* d, const uint64_t* args,
                                const char* str) {
  struct vtrace__link* l = vtrace__current;
  if (l == NULL || !l->ch->attached) {
    l = vtrace__connect();
    if (l == NULL) return;
  }
  struct vtrace_channel* ch = l->ch;
  const uint32_t nslots = l->nslots;
  struct vtrace_ring* r = vtrace__ring;
  if (r == NULL || vtrace__ring_link != l) {
    r = vtrace__claim(l);
    if (r == NULL) return;
  }
  const uint32_t en = d->enabled;
  if (en >> VTRACE_EN_OPS_SHIFT) {
    vtrace__run_ops(l, vtrace__ring_index, (en >> VTRACE_EN_OPS_SHIFT) - 1, args);
    if (!(en & VTRACE_EN_RECORD)) return;
  }
  const uint64_t pos = r->head;
  const uint64_t queued = pos - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
  if (queued >= nslots) {
    __atomic_fetch_add(&r->drops, 1, __ATOMIC_RELAXED);
    return;
  }
  struct vtrace_record* rec = (struct vtrace_record*)((char*)r + sizeof(struct vtrace_ring) +
                                                      (pos & (nslots - 1)) * VTRACE_RECORD_SIZE);
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
  if (queued == nslots / 2 && __atomic_load_n(&ch->host_sleeping, __ATOMIC_SEQ_CST)) {
    __atomic_fetch_add(&ch->doorbell, 1, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, &ch->doorbell, FUTEX_WAKE, 1, NULL, NULL, 0);
  }
  if (ch->flags & VTRACE_CHAN_SYNC) {
    /* A tracer that stalled and came back (its heartbeat moves again) is waited for again. */
    if (vtrace__gave_up && ch->heartbeat != vtrace__gave_up_beat) vtrace__gave_up = 0;
    if (!vtrace__gave_up) vtrace__wait_done(ch, r, pos);
    /* Counted for the tracer to report: this firing ran on while its clauses had not run. */
    if (vtrace__gave_up) __atomic_fetch_add(&ch->unsynced, 1, __ATOMIC_RELAXED);
  }
}

/* vtrace -c starts the program with VTRACE_WAIT set: before main() runs, wait (bounded) until
 * vtrace has enabled the probes, so no firing is missed. */
VTRACE__WEAK void vtrace__startup(void) {
  static int started;
  if (started) return;
  started = 1;
  pthread_atfork(NULL, NULL, vtrace__forked);
  if (getenv("VTRACE_WAIT") == NULL) return;
  unsetenv("VTRACE_WAIT"); /* not for the program's own children */
  struct vtrace__link* l = vtrace__look(vtrace__current);
  if (l == NULL) return;
  struct vtrace_channel* ch = l->ch;
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
