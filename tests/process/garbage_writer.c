/*
 * garbage_writer: an instrumented program that, once vtrace has connected, writes garbage into
 * its own ring, for tests of the host's validation (issue 3, part 4). The host must count and
 * report each bad record, never crash, never trust it, and keep tracing.
 *
 *   garbage_writer [--pause-ms MS] [--wait-ms MS] [--die-mid-record] [--bad-drops] [--verbose]
 *
 * Probes: garbage:garbage_writer:main:hello (arg0 = 0), garbage:...:step (arg0 = step number,
 * fired just before each garbage record), garbage:...:text (a copied string, arg1 = 0), and
 * garbage:...:after (arg0 = 1..3, the valid firings at the end).
 *
 * 1. Connect: fire garbage:hello every 10 ms until this thread has a ring (the host enabled a
 *    garbage probe), or, failing that, until the channel exists (then claim a ring directly).
 *    Without a channel after --wait-ms (default 5000) it exits 3.
 * 2. Then, each step fired as `step N` and followed by a pause of --pause-ms (default 100), it
 *    publishes one bad record (everything else in it is valid):
 *      step 1  nargs = 200
 *      step 2  tail_len = 60000 (probe = text, a string probe)
 *      step 3  probe = 0xffffff (beyond the probe section)
 *      step 4  probe = a valid offset + 4 (inside a descriptor)
 *      step 5  seq = the position + 7777
 *      step 6  a string probe whose tail fills all VTRACE_TAIL_SIZE bytes with no NUL
 *      step 7  head = tail + 10 * nslots (the ring claims more records than it holds); no record
 * 3. Fires garbage:after three times (valid records; the site drops them while head is still
 *    ahead of tail, unless the host repaired the ring), then exits 0.
 *
 * --die-mid-record: once connected, writes the first half of a record into the next slot,
 * without publishing it, and kills itself with SIGKILL (exit by signal 9).
 *
 * --bad-drops: once connected, writes drop counts no site can reach (its ring's drops =
 * 1967016172124798215, the channel's no_ring_drops = 0xfffffff0), waits --pause-ms, then lowers
 * its ring's count to 5 (backwards), fires garbage:after three times and exits 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vtrace/probe.h"

extern struct vtrace_probe_desc __stop_vtrace_probes[] __attribute__((weak, visibility("hidden")));

static int verbose;

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static void say(const char* what) {
  if (verbose) fprintf(stderr, "garbage_writer: %s\n", what);
}

/* Offset of the first descriptor of garbage:NAME in the probe section (as a site computes it). */
static uint32_t probe_offset(const char* name) {
  for (struct vtrace_probe_desc* d = __start_vtrace_probes; d && d < __stop_vtrace_probes; ++d)
    if (d->magic == VTRACE_PROBE_MAGIC && strcmp(d->provider, "garbage") == 0 &&
        strcmp(d->name, name) == 0)
      return (uint32_t)((char*)d - (char*)__start_vtrace_probes);
  fprintf(stderr, "garbage_writer: no descriptor for garbage:%s\n", name);
  exit(1);
}

static struct vtrace_record* slot(struct vtrace_channel* ch, struct vtrace_ring* r, uint64_t pos) {
  return (struct vtrace_record*)((char*)r + sizeof(struct vtrace_ring) +
                                 (pos & (ch->nslots - 1)) * VTRACE_RECORD_SIZE);
}

/* Fills the next slot with a valid record of probe `probe`; the caller corrupts it, then
 * publish() makes it visible. Waits (bounded) for room, as the host drains the ring. */
static struct vtrace_record* next_record(struct vtrace_channel* ch, struct vtrace_ring* r,
                                         uint32_t probe, uint64_t* pos) {
  *pos = r->head;
  for (int i = 0; i < 500 && *pos - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) >= ch->nslots; ++i)
    sleep_ms(10);
  struct vtrace_record* rec = slot(ch, r, *pos);
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  memset(rec, 0, sizeof *rec);
  rec->probe = probe;
  rec->tid = vtrace__tid;
  rec->cpu = 0;
  rec->nargs = 1;
  rec->timestamp = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
  rec->seq = *pos;
  rec->args[0] = 42;
  return rec;
}

static void publish(struct vtrace_ring* r, uint64_t pos) {
  __atomic_store_n(&r->head, pos + 1, __ATOMIC_RELEASE);
}

int main(int argc, char** argv) {
  long pause_ms = 100, wait_ms = 5000;
  int die = 0, bad_drops = 0;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--pause-ms") == 0 && i + 1 < argc) {
      pause_ms = atol(argv[++i]);
    } else if (strcmp(argv[i], "--wait-ms") == 0 && i + 1 < argc) {
      wait_ms = atol(argv[++i]);
    } else if (strcmp(argv[i], "--die-mid-record") == 0) {
      die = 1;
    } else if (strcmp(argv[i], "--bad-drops") == 0) {
      bad_drops = 1;
    } else if (strcmp(argv[i], "--verbose") == 0) {
      verbose = 1;
    } else {
      fprintf(stderr,
              "usage: garbage_writer [--pause-ms MS] [--wait-ms MS] [--die-mid-record] "
              "[--bad-drops] [--verbose]\n");
      return 2;
    }
  }

  /* 1. connect */
  struct vtrace_channel* ch = NULL;
  for (long waited = 0; waited <= wait_ms; waited += 10) {
    VTRACE_PROBE(garbage, hello, 0);
    if (vtrace__ring != NULL) break;
    sleep_ms(10);
  }
  struct vtrace__link* l = NULL;
  if (vtrace__ring == NULL && (l = vtrace__connect()) != NULL) vtrace__claim(l);
  ch = vtrace__ring_link != NULL ? vtrace__ring_link->ch : NULL;
  struct vtrace_ring* r = vtrace__ring;
  if (ch == NULL || r == NULL) {
    fprintf(stderr, "garbage_writer: no vtrace channel after %ld ms\n", wait_ms);
    return 3;
  }
  say("connected");
  const uint32_t hello = probe_offset("hello");
  const uint32_t text = probe_offset("text");
  uint64_t pos;
  struct vtrace_record* rec;

  if (die) {
    rec = next_record(ch, r, hello, &pos);
    memset((char*)rec + VTRACE_RECORD_SIZE / 2, 0xab, VTRACE_RECORD_SIZE / 2); /* half written */
    say("dying in the middle of a record");
    raise(SIGKILL);
  }

  if (bad_drops) {
    __atomic_store_n(&r->drops, 1967016172124798215ull, __ATOMIC_RELAXED);
    __atomic_store_n(&ch->no_ring_drops, 0xfffffff0u, __ATOMIC_RELAXED);
    say("bad drop counters");
    sleep_ms(pause_ms);
    __atomic_store_n(&r->drops, 5, __ATOMIC_RELAXED);
    for (int k = 1; k <= 3; ++k) VTRACE_PROBE(garbage, after, k);
    return 0;
  }

  /* 2. garbage, one step at a time */
  VTRACE_PROBE(garbage, step, 1);
  rec = next_record(ch, r, hello, &pos);
  rec->nargs = 200;
  publish(r, pos);
  say("step 1: nargs 200");
  sleep_ms(pause_ms);

  VTRACE_PROBE(garbage, step, 2);
  rec = next_record(ch, r, text, &pos);
  rec->nargs = 2;
  memcpy(rec->tail, "/x", 3);
  rec->tail_len = 60000;
  publish(r, pos);
  say("step 2: tail_len 60000");
  sleep_ms(pause_ms);

  VTRACE_PROBE(garbage, step, 3);
  rec = next_record(ch, r, 0xffffff, &pos);
  publish(r, pos);
  say("step 3: probe 0xffffff");
  sleep_ms(pause_ms);

  VTRACE_PROBE(garbage, step, 4);
  rec = next_record(ch, r, hello + 4, &pos);
  publish(r, pos);
  say("step 4: probe inside a descriptor");
  sleep_ms(pause_ms);

  VTRACE_PROBE(garbage, step, 5);
  rec = next_record(ch, r, hello, &pos);
  rec->seq = pos + 7777;
  publish(r, pos);
  say("step 5: wrong seq");
  sleep_ms(pause_ms);

  VTRACE_PROBE(garbage, step, 6);
  rec = next_record(ch, r, text, &pos);
  rec->nargs = 2;
  memset(rec->tail, 'X', VTRACE_TAIL_SIZE);
  rec->tail_len = VTRACE_TAIL_SIZE;
  publish(r, pos);
  say("step 6: tail without NUL");
  sleep_ms(pause_ms);

  VTRACE_PROBE(garbage, step, 7);
  sleep_ms(pause_ms); /* let the host take the marker before the ring breaks */
  __atomic_store_n(&r->head, __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) + 10ull * ch->nslots,
                   __ATOMIC_RELEASE);
  say("step 7: head = tail + 10 * nslots");
  sleep_ms(pause_ms);

  /* 3. valid again */
  for (int k = 1; k <= 3; ++k) VTRACE_PROBE(garbage, after, k);
  VTRACE_PROBE_STR(garbage, text, "still alive", 0); /* the string probe steps 2 and 6 name */
  say("done");
  return 0;
}
