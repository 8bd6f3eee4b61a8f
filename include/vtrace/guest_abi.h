/*
 * The vtrace guest channel ABI: the layout of the ivshmem-plain BAR shared by a QEMU guest's
 * vtrace-agent and the vtrace host (DESIGN.md section 4). The host file is
 * /dev/shm/vtrace-UID/NAME-ID.channel (private to its user); in the guest it is BAR2 of the
 * ivshmem device (/sys/bus/pci/devices/0000:00:04.0/resource2).
 *
 * The host formats the region when it starts the VM (the layout fields below) and keeps its own
 * copy of the layout: it never re-reads a size or offset from shared memory. The guest is
 * untrusted: every index, count, length and string the host reads from here is bounds-checked,
 * and a bad one is counted and reported.
 *
 *   offset 0                 struct vtrace_guest_header          (4 KiB)
 *   exec_offset              struct vtrace_guest_exec + output   (exec_size bytes)
 *   table_offset             struct vtrace_guest_probe[max_probes]  (guest-written probe table)
 *   enable_offset            uint8_t enabled[max_probes]            (host-written)
 *   ring_offset + i*stride   struct vtrace_ring, then nslots x struct vtrace_guest_record
 *
 * Rings are single-producer (one agent thread each) single-consumer (the host), with the same
 * header as process rings (channel_abi.h). Ring VTRACE_GUEST_RING_NATIVE carries records of
 * probe.h sites of guest processes (relayed by the agent), VTRACE_GUEST_RING_KERNEL guest kernel
 * events. In sync mode the agent waits (spinning: futexes do not cross the VM boundary) until
 * the host's `done` passes a record before it lets the guest site go on.
 *
 * Time: records carry the guest's raw TSC. The host translates it to its own timebase with an
 * offset, a scale and a bound, measured by the ping handshake below (or exact from KVM).
 */
#ifndef VTRACE_GUEST_ABI_H
#define VTRACE_GUEST_ABI_H

#include <stdint.h>

#include "vtrace/channel_abi.h"

#define VTRACE_GUEST_MAGIC 0x3130545347525456ull /* "VTRGST01" */
#define VTRACE_GUEST_VERSION 1u

#define VTRACE_GUEST_RING_NATIVE 0u
#define VTRACE_GUEST_RING_KERNEL 1u
#define VTRACE_GUEST_NRINGS 2u

#define VTRACE_GUEST_TAIL_SIZE 248u
#define VTRACE_GUEST_COMM_LEN 16u

/* Probe requests (vtrace_guest_header::request): their room, and what the agent says. */
#define VTRACE_GUEST_REQUEST_LEN 160u
#define VTRACE_REQ_OK 0u
#define VTRACE_REQ_UNSUPPORTED 1u /* the guest kernel cannot make them (no kprobe events...) */
#define VTRACE_REQ_TABLE_FULL 2u  /* they do not fit in the table: none were added */
#define VTRACE_REQ_BAD 3u         /* a request the agent does not understand */
#define VTRACE_REQ_TOO_MANY 4u    /* more than one request may add: none were added */
#define VTRACE_REQ_NO_PROCESS 5u  /* a pid request's process does not exist */
/* The most functions one fbt request may add (two probes each): a glob like fbt:::entry would
 * otherwise fill the agent's table for the rest of its life. */
#define VTRACE_REQ_MAX_FUNCTIONS 1024u

/* Frames one record can carry (the tail's room), and the table entry flag of probes whose
 * records carry them (with VTRACE_DESC_STR0 of channel_abi.h in vtrace_guest_probe.flags). */
#define VTRACE_GUEST_MAX_FRAMES (VTRACE_GUEST_TAIL_SIZE / 8u)
/* kstack_len of a record whose probe has no kernel stack to give (a syscall return: its
 * tracepoint hands perf the user's registers); its user frames are still there. */
#define VTRACE_GUEST_NO_KSTACK 0xFFu
#define VTRACE_GPROBE_STACKS 0x100u

/* The host's enable byte of a table entry (the enable area): VTRACE_GEN_ON, and for a guest
 * kernel probe what its clauses need read at the moment it fires: its stacks
 * (VTRACE_GEN_STACKS: kernel then user callchain in the tail), the string argument N points to
 * (VTRACE_GEN_STR(N), N < VTRACE_MAX_ARGS: copied into the tail; syscall entries). A record
 * carries only one of them in its tail: a string wins. */
#define VTRACE_GEN_ON 1u
#define VTRACE_GEN_STACKS 2u
#define VTRACE_GEN_STR(n) ((uint8_t)(((n) + 1u) << 4))
#define VTRACE_GEN_STR_ARG(byte) ((int)((byte) >> 4) - 1) /* -1: none */

/* Probe table entry kinds. */
#define VTRACE_GPROBE_NATIVE 1u /* a probe.h site (or a set of same-named sites) of a process */
#define VTRACE_GPROBE_KERNEL 2u /* a guest kernel event (syscall, sched, proc) */

/* Host session flags (vtrace_guest_header.host_flags). */
#define VTRACE_GHOST_SYNC 1u /* sites wait until the host has run the clauses of each record */

/* Exec request states. */
#define VTRACE_GEXEC_IDLE 0u
#define VTRACE_GEXEC_RUNNING 1u
#define VTRACE_GEXEC_DONE 2u

/* One probe the guest offers. The agent fills entries [0, probe_count); the host reads them
 * (strings must be NUL-terminated within their fields, or the entry is rejected). */
struct vtrace_guest_probe {
  uint32_t kind; /* VTRACE_GPROBE_* */
  int32_t pid;   /* the guest process (native probes); 0 for kernel events */
  uint16_t nargs;
  uint16_t flags; /* VTRACE_DESC_STR0: arg0 is a string copied into the record's tail */
  uint32_t reserved;
  char provider[32];
  char module[48];
  char function[96];
  char name[64];
};

/* One record in a guest ring (VTRACE_RECORD_SIZE bytes, as process records). */
struct vtrace_guest_record {
  uint32_t probe; /* index in the probe table */
  uint32_t pid;   /* guest pid */
  uint32_t tid;   /* guest tid */
  uint16_t vcpu;
  uint8_t nargs;
  /* N + 1: tail holds the string argument N pointed to, read when the probe fired (the host
   * asked for it: VTRACE_GEN_STR); tail_len 0 then means it could not be read. 0: none, or
   * the probe's own VTRACE_DESC_STR0 string of arg0. */
  uint8_t str_arg;
  uint64_t timestamp; /* the guest's raw TSC */
  uint64_t seq;       /* the ring position it was written at */
  uint16_t tail_len;  /* bytes used in tail (a string and its NUL), 0 when none */
  /* A VTRACE_GPROBE_STACKS probe's record: tail holds kstack_len kernel return addresses then
   * ustack_len user ones (uint64_t each, innermost first, at most VTRACE_GUEST_MAX_FRAMES in
   * all; tail_len stays 0). 0 for other probes. */
  uint8_t kstack_len;
  uint8_t ustack_len;
  uint32_t ustack_image; /* the process image ustack's addresses are in (its agent's number) */
  uint64_t args[VTRACE_MAX_ARGS];
  char comm[VTRACE_GUEST_COMM_LEN]; /* execname, NUL-terminated */
  char tail[VTRACE_GUEST_TAIL_SIZE];
};

/* `vtrace vm exec`: one request at a time (the host serializes with a lock file). The host
 * writes argv (NUL-separated strings, argc of them) and bumps request_seq; the agent runs the
 * command, writes its output (stdout and stderr interleaved, cut at output_cap bytes) and exit
 * status, then sets state = DONE and response_seq = request_seq. */
struct vtrace_guest_exec {
  volatile uint32_t request_seq;  /* host */
  volatile uint32_t response_seq; /* guest */
  volatile uint32_t state;        /* guest: VTRACE_GEXEC_* */
  int32_t exit_status;            /* guest: exit code, 128+signal, or 127 when it cannot start */
  uint32_t argc;                  /* host */
  uint32_t argv_len;              /* host: bytes used in argv */
  uint32_t output_len;            /* guest: bytes in output (<= output_cap) */
  uint32_t output_truncated;      /* guest: more output was discarded */
  uint32_t output_cap;            /* host: exec_size - sizeof(struct vtrace_guest_exec) */
  uint32_t traced;                /* host: start the command held until probes are on (as -c) */
  uint64_t reserved[3];
  char argv[4096];
  /* char output[output_cap] follows */
};

struct vtrace_guest_header {
  /* ---- layout: written by the host at VM start, never changed ---- */
  uint64_t magic;
  uint32_t version;
  uint32_t record_size; /* VTRACE_RECORD_SIZE */
  uint64_t total_size;
  uint32_t exec_offset, exec_size;
  uint32_t table_offset, max_probes;
  uint32_t enable_offset, nrings;
  uint32_t ring_offset, nslots; /* per ring, a power of two */
  uint64_t ring_stride;
  uint64_t pad0[2];

  /* ---- host-written (cache line 2) ---- */
  volatile uint32_t host_attached;  /* a vtrace session is tracing this guest */
  volatile uint32_t host_flags;     /* VTRACE_GHOST_* */
  volatile uint64_t host_session;   /* bumped at each attach: the agent resets its state */
  volatile uint64_t host_heartbeat; /* bumped while attached; sync waits give up without it */
  volatile uint32_t enable_gen;     /* bumped after the enabled[] bytes change */
  volatile uint32_t ping_request;   /* 1: the host is measuring; the agent answers pings fast */
  volatile uint64_t ping_seq;       /* the host writes a new value; the agent answers it */
  volatile uint32_t table_seen;     /* the table_gen the host has read and enabled probes for */
  uint32_t pad1[3];

  /* ---- guest-written (cache line 3): untrusted ---- */
  volatile uint32_t agent_ready; /* the agent has mapped the channel and published its table */
  volatile uint32_t agent_pid;
  volatile uint64_t agent_heartbeat;
  volatile uint32_t probe_count; /* entries used in the probe table */
  volatile uint32_t table_gen;   /* bumped after the table changes (entries are only added) */
  volatile uint64_t watermark;   /* guest TSC: every record stamped before it has been written */
  volatile uint64_t pong_seq;    /* = ping_seq once answered */
  volatile uint64_t pong_tsc;    /* the guest TSC read when answering pong_seq */
  volatile uint32_t ping_active; /* the agent is in its fast ping loop */
  volatile uint32_t ncpus;
  volatile uint32_t enable_ack; /* the enable_gen whose enablings the agent has applied */
  volatile uint32_t unsynced;   /* sync mode: records that ran on without the host (it stalled) */
  volatile uint64_t guest_tsc_khz;   /* the guest kernel's TSC frequency (0 if unknown) */
  volatile uint64_t relay_drops;     /* records the agent could not forward (its rings full) */
  volatile uint64_t process_drops;   /* records guest processes dropped (their rings full) */
  volatile uint64_t process_rejects; /* records of guest processes the agent rejected */
  volatile uint64_t kernel_lost;     /* guest kernel events lost (perf ring overflow) */
  char kernel_release[64];
  char agent_error[128]; /* the agent's last problem, NUL-terminated, for reports */

  /* ---- probes made on request: the host names a provider and what it wants of it, the
   * agent adds the probes it can make to its table. "fbt:MODULE:FUNCTION" (globs): fbt:::entry
   * and :return of the kernel functions matching; "pid:PID:MODULE:FUNCTION" (globs):
   * pidPID:::entry and :return of process PID's functions; "profile:NAME:PERIOD_NS":
   * profile:::NAME sampling every CPU every PERIOD_NS, with stacks ---- */
  char request[VTRACE_GUEST_REQUEST_LEN]; /* host: NUL-terminated */
  volatile uint32_t request_gen;          /* host: bumped after request is written */
  volatile uint32_t request_ack_gen;      /* agent: = request_gen once the table has them */
  volatile uint32_t request_matched;      /* agent: what the request matched (functions...) */
  volatile uint32_t request_status;       /* agent: VTRACE_REQ_* */
};

#endif /* VTRACE_GUEST_ABI_H */
