/*
 * The vtrace channel ABI: the layout of the shared memory between a traced program (a host
 * process, later a guest agent) and the vtrace host. C, so probe.h can include it.
 *
 * The tracer creates the channel; the traced side writes records into per-thread single-producer
 * single-consumer rings. The host trusts nothing the traced side writes: every index, count and
 * length read from the channel is bounds-checked before use (src/transport/).
 */
#ifndef VTRACE_CHANNEL_ABI_H
#define VTRACE_CHANNEL_ABI_H

#include <stdint.h>

#define VTRACE_CHANNEL_MAGIC 0x31304843525456ull /* "VTRCH01" */
#define VTRACE_ABI_VERSION 1u
#define VTRACE_PROBE_MAGIC 0x76747062u /* "vtpb" */

#define VTRACE_MAX_ARGS 10
/* Geometry limits both sides check: a channel outside them is refused. */
#define VTRACE_MAX_RINGS 4096u
#define VTRACE_MAX_SLOTS (1u << 24) /* per ring, a power of two */
#define VTRACE_RING_ALIGN 64u       /* ring_offset and ring_stride are multiples of it */
#define VTRACE_RECORD_SIZE 384u
/* Bytes for strings copied at the site (VTRACE_PROBE_STR). */
#define VTRACE_TAIL_SIZE (VTRACE_RECORD_SIZE - 32u - 8u * VTRACE_MAX_ARGS)

/* Descriptor flags. */
#define VTRACE_DESC_STR0 1u  /* arg0 is a string the site copies into the record */
#define VTRACE_DESC_GUARD 2u /* VTRACE_ENABLED: on while any site of provider:name is on */
/* The site can aggregate in the process (its probe.h runs site ops, below). Programs built with
 * an older probe.h lack it and are only ever asked for records. */
#define VTRACE_DESC_AGG 4u
/* The site's site ops may test its arguments (VTRACE_AGG_TEST, below): a predicate such as
 * /arg0 > 10 && arg1 == 3/ runs where the probe fires. */
#define VTRACE_DESC_TEST 8u

/*
 * A descriptor's `enabled` word, as the tracer writes it: 0 is off; VTRACE_EN_RECORD asks for a
 * record in the thread's ring; a non-zero field above VTRACE_EN_OPS_SHIFT names entry
 * (field - 1) of the channel's site ops table, which the site runs on its arguments into its
 * thread's aggregation slots. An aggregation kept there never drops an event in a burst (DTrace
 * and bpftrace aggregate where the event happens too); the tracer sums every ring's slots.
 */
#define VTRACE_EN_RECORD 1u
#define VTRACE_EN_OPS_SHIFT 16

/* Site ops: each names a kind and the slot pair [n, value] of one aggregation in the thread's
 * slots (n counts the updates, so a value is present only when n > 0). */
#define VTRACE_AGG_COUNT 1u /* n += 1 */
#define VTRACE_AGG_SUM 2u   /* n += 1, value += args[arg] */
#define VTRACE_AGG_MIN 3u   /* n += 1, value = min(value, args[arg]) (signed) */
#define VTRACE_AGG_MAX 4u   /* n += 1, value = max(value, args[arg]) (signed) */
/* A test (VTRACE_DESC_TEST sites only): kind = VTRACE_AGG_TEST | cmp << 4 | skip << 8; when
 * args[arg] CMP constant is false, the next `skip` ops are skipped. The constant is the int64 in
 * the 8 bytes of ops[slot], an entry at or after nops (it is not run). */
#define VTRACE_AGG_TEST 5u
#define VTRACE_CMP_EQ 0u
#define VTRACE_CMP_NE 1u
#define VTRACE_CMP_LT 2u /* signed */
#define VTRACE_CMP_LE 3u
#define VTRACE_CMP_GT 4u
#define VTRACE_CMP_GE 5u
#define VTRACE_CMP_LTU 6u /* unsigned */
#define VTRACE_CMP_LEU 7u
#define VTRACE_CMP_GTU 8u
#define VTRACE_CMP_GEU 9u
#define VTRACE_MAX_SITE_OPS 8u
#define VTRACE_MAX_SITE_ENTRIES 4096u /* limits the site checks the header against */
#define VTRACE_MAX_AGG_SLOTS 4096u    /* per ring */

/* Channel flags. */
#define VTRACE_CHAN_SYNC 1u /* sites wait until the host has run the clauses of each record */
#define VTRACE_CHAN_TSC 2u  /* sites stamp records with the raw TSC (the host translates it) */
/* Sync sites sleep at once instead of spinning first: the consumer (a guest's agent on the same
 * vCPU) cannot run while the site spins. */
#define VTRACE_CHAN_NO_SPIN 4u
/* Sites mark their ring `writing` from before they stamp a record until it is published, so a
 * consumer that must promise "every record stamped before T has been read" (a guest's agent, for
 * the host's time-ordered merge) can tell that one is in flight. */
#define VTRACE_CHAN_INFLIGHT 8u

/*
 * One probe site's descriptor, placed in the "vtrace_probes" section of the program. The tracer
 * finds every descriptor through the section, reads the strings they point to from the live
 * process (after relocation), and enables a probe by writing `enabled`.
 */
struct vtrace_probe_desc {
  uint32_t magic;
  volatile uint32_t enabled;
  uint16_t nargs;
  uint16_t flags;
  uint32_t line;
  const char* provider;
  const char* name;
  const char* function;
  const char* file;
};

/* One record as a site writes it into a ring slot. */
struct vtrace_record {
  uint32_t probe; /* byte offset of the descriptor in the vtrace_probes section */
  uint32_t tid;
  uint32_t cpu;
  uint16_t nargs;
  uint16_t tail_len;  /* bytes used in tail */
  uint64_t timestamp; /* CLOCK_MONOTONIC ns, or the raw TSC when the channel has VTRACE_CHAN_TSC */
  uint64_t seq;       /* the ring position it was written at */
  uint64_t args[VTRACE_MAX_ARGS];
  /*
   * Copied strings. For a VTRACE_DESC_STR0 probe: a string of tail_len - 1 bytes and a NUL;
   * when the site had to cut it, the copy ends in "..." (the truncation is visible).
   */
  char tail[VTRACE_TAIL_SIZE];
};

struct vtrace_agg_op {
  uint16_t kind; /* VTRACE_AGG_* */
  uint16_t arg;  /* argument index, < VTRACE_MAX_ARGS */
  uint32_t slot; /* first of its two slots */
};

/* One entry of the site ops table: what a site does with its arguments when it fires. */
struct vtrace_site_ops {
  uint32_t nops;
  uint32_t pad;
  struct vtrace_agg_op ops[VTRACE_MAX_SITE_OPS];
};

/* A ring: counters on their own cache lines, then `nslots` records. */
struct vtrace_ring {
  volatile uint64_t head; /* producer: next position to write */
  uint64_t pad0[7];
  volatile uint64_t tail; /* consumer: next position to read */
  uint64_t pad1[7];
  volatile uint64_t drops;      /* producer: records dropped because the ring was full */
  volatile uint32_t owner_tid;  /* 0 = free; a thread claims a ring with compare-and-swap */
  volatile uint32_t waiting;    /* producer in sync mode sleeps on done_futex when set */
  volatile uint64_t done;       /* consumer: positions below this are fully processed */
  volatile uint32_t done_futex; /* low 32 bits of done, for futex waits */
  volatile uint32_t writing;    /* VTRACE_CHAN_INFLIGHT: a record is between stamp and publish */
  uint64_t pad3[4];             /* the header is 192 bytes: slots start on a cache line */
  /* struct vtrace_record slots[nslots] follow */
};

struct vtrace_channel {
  uint64_t magic;
  uint32_t version;
  uint32_t flags; /* VTRACE_CHAN_* */
  uint32_t nrings;
  uint32_t nslots; /* per ring, a power of two */
  uint32_t record_size;
  uint32_t ring_offset; /* from the channel start to ring 0 */
  uint64_t ring_stride; /* bytes from one ring to the next */
  uint64_t total_size;
  volatile uint64_t heartbeat;  /* the host bumps it while attached */
  volatile uint32_t attached;   /* 0 once the host has detached */
  volatile uint32_t go;         /* start gate for vtrace -c: the host sets it once probes are on */
  volatile uint32_t client_pid; /* the traced process, once it has mapped the channel */
  volatile uint32_t no_ring_drops; /* records dropped because every ring was taken */
  /* Doorbell: while the host sleeps (host_sleeping = 1), a site whose ring reaches half full
   * bumps `doorbell` and futex-wakes it, so a sleeping host never lets a busy ring overflow. */
  volatile uint32_t doorbell;
  volatile uint32_t host_sleeping;
  /* Sync mode: firings that ran on without waiting because the host stopped answering. */
  volatile uint64_t unsynced;
  /* Site aggregation: at agg_offset (after the rings) nsite_ops struct vtrace_site_ops, then per
   * ring agg_slots uint64_t written only by the thread owning the ring. 0 entries: none. */
  uint64_t agg_offset;
  uint32_t nsite_ops;
  uint32_t agg_slots;
  uint64_t pad[2];
};

#endif /* VTRACE_CHANNEL_ABI_H */
