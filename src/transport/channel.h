// The host side of a vtrace channel (include/vtrace/channel_abi.h): the shared memory a traced
// program writes records into. The host creates it (/dev/shm/vtrace.PID), reads the per-thread
// rings with RingReader (transport/ring_reader.h), marks records done in sync mode, keeps a
// heartbeat going while attached, and detaches (attached = 0, then unlink).
#pragma once
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vtrace/channel_abi.h"

namespace vtrace::transport {

inline constexpr uint32_t kDefaultRings = 64;
inline constexpr uint32_t kDefaultSlots = 16384;  // 6 MiB a ring: ~1.5 ms of a 10 M/s site

struct ChannelConfig {
  uint32_t nrings = kDefaultRings;
  uint32_t nslots = kDefaultSlots;  // per ring, a power of two
  bool sync = false;
  bool tsc = false;       // sites stamp records with the raw TSC (VTRACE_CHAN_TSC)
  bool no_spin = false;   // sync sites sleep at once (VTRACE_CHAN_NO_SPIN: a guest's agent)
  bool inflight = false;  // sites mark records in flight (VTRACE_CHAN_INFLIGHT: a guest's agent)
};

// Slots per ring for `-x bufsize=N`: N / record size, rounded down to a power of two, min 16.
uint32_t slots_for_bufsize(uint64_t bufsize);

// Site aggregation area of every channel: entries of the site ops table, slots per ring.
inline constexpr uint32_t kSiteOpsEntries = 256;
inline constexpr uint32_t kAggSlotsPerRing = 256;

// Layout of a channel: ring 0 starts at ring_offset; rings are ring_stride bytes apart; the site
// aggregation area (ops table, then each ring's slots) follows at agg_offset.
struct ChannelLayout {
  uint32_t ring_offset = 0;
  uint64_t ring_stride = 0;
  uint64_t agg_offset = 0;
  uint64_t total_size = 0;
};
ChannelLayout channel_layout(uint32_t nrings, uint32_t nslots);

// Fills a channel header (attached = 1) for `cfg` at `mem` (channel_layout().total_size bytes).
void init_channel(void* mem, const ChannelConfig& cfg);

inline vtrace_ring* ring_at(vtrace_channel* ch, uint32_t i) {
  return reinterpret_cast<vtrace_ring*>(reinterpret_cast<char*>(ch) + ch->ring_offset +
                                        uint64_t{i} * ch->ring_stride);
}

// /dev/shm/vtrace.PID
std::string channel_path(pid_t pid);

// Removes the channels (DIR/vtrace.PID) whose tracer died (SIGKILL leaves no chance to unlink):
// their lock is free. Each is marked detached first, so a process still mapping it looks for its
// next tracer's channel. A file without a header that is younger than a few seconds may be one a
// tracer is creating: kept. Returns how many were removed.
size_t remove_stale_channels(const std::string& dir = "/dev/shm");

class Channel {
 public:
  // Creates the channel of process `pid` at `path` (channel_path(pid) when empty): O_EXCL, mode
  // 0600, owned by the process's euid/egid. A channel left by a dead tracer is replaced; one held
  // by a live tracer is an error. The rings are cut (fewer, then shorter) to fit half the free
  // space of the file system (size_note() says so), and every page is allocated before either
  // side touches it (headers now, a ring when claimed: see back_ring), so none can SIGBUS.
  // Returns nullptr with `error` set on failure (no room even for one short ring, ...).
  static std::unique_ptr<Channel> create(pid_t pid, const ChannelConfig& cfg, std::string& error,
                                         const std::string& path = "");
  ~Channel();  // detach()
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  vtrace_channel* header() const { return ch_; }
  uint32_t nrings() const { return nrings_; }  // the host's own copies, never re-read
  uint32_t nslots() const { return nslots_; }
  vtrace_ring* ring(uint32_t i) const { return ring_at_host(i); }
  // Entry `i` (< kSiteOpsEntries) of the site ops table, which the host writes before it names
  // the entry in a site's enable word.
  vtrace_site_ops* site_ops(uint32_t i) const;
  // Slot `slot` of ring `ring`'s aggregation slots, read untorn (the process writes it).
  uint64_t agg_slot(uint32_t ring, uint32_t slot) const;
  const std::string& path() const { return path_; }
  // "channel cut to 8 rings of 512 records (...)" when the file system could not hold the asked
  // geometry; "" otherwise.
  const std::string& size_note() const { return size_note_; }

  void set_sync(bool sync);
  void heartbeat();
  // The pid the traced process wrote once it mapped the channel (0 before; untrusted).
  uint32_t client_pid() const;
  // Opens the start gate (go = 1) and wakes the process waiting at it.
  void open_gate();
  // Allocates the records of ring `i` before the host reads them (the site populated them when
  // it claimed the ring, unless it lies): false when the file system cannot hold them, and then
  // the ring must not be read.
  bool back_ring(uint32_t i);
  enum class RingState { kReadable, kEmpty, kCorrupt };
  // Whether ring `i` may be read now: kEmpty while nothing was written to it, kCorrupt (for
  // good, and returned once: the caller counts it) when it holds records the file system cannot
  // back, which the site could not have written. Backs each ring once, before its first read.
  RingState ready_ring(uint32_t i);
  // Sync mode: the record at position `pos` of ring `i` has been processed.
  void mark_done(uint32_t i, uint64_t pos);
  // Sleeps up to `ns` unless a site rings the doorbell (a ring reached half full) first.
  void wait_doorbell(uint64_t ns);
  // Records dropped because every ring was taken (process-written: a count to report only).
  uint64_t no_ring_drops() const;
  // Sync mode: firings the process ran without waiting (the host stopped answering).
  uint64_t unsynced() const;
  // attached = 0 (sites stop writing, sync waiters return), unmap, unlink. Idempotent.
  void detach();

 private:
  Channel() = default;
  vtrace_ring* ring_at_host(uint32_t i) const {
    return reinterpret_cast<vtrace_ring*>(reinterpret_cast<char*>(ch_) + layout_.ring_offset +
                                          uint64_t{i} * layout_.ring_stride);
  }

  vtrace_channel* ch_ = nullptr;
  ChannelLayout layout_;
  uint32_t nrings_ = 0, nslots_ = 0;
  int fd_ = -1;  // held with an exclusive flock while this tracer is alive
  std::string path_;
  std::string size_note_;
  std::vector<RingState> ring_state_;  // per ring; kEmpty until backed (ready_ring)
};

// Sync mode wake-up of a ring's waiter: done = pos + 1, done_futex, FUTEX_WAKE when it waits.
void mark_ring_done(vtrace_ring* r, uint64_t pos);

}  // namespace vtrace::transport
