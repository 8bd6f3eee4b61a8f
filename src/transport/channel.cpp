#include "transport/channel.h"

#include <ctime>

#include <dirent.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace vtrace::transport {

namespace {

constexpr uint64_t kCacheLine = VTRACE_RING_ALIGN;
constexpr uint32_t kMinSlots = 16;
constexpr uint32_t kKeepRings = 8;         // rings are cut down to this before they get shorter
constexpr int64_t kCreationGraceSec = 10;  // a file without a header younger than this is new

uint64_t round_up(uint64_t v, uint64_t to) {
  return (v + to - 1) / to * to;
}

// Marks a channel left by a dead tracer detached, so a process still mapping it reconnects.
// Only a file that can be a channel: never another file linked under a channel's name.
void mark_stale_detached(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
      static_cast<uint64_t>(st.st_size) < sizeof(vtrace_channel))
    return;
  void* p = mmap(nullptr, sizeof(vtrace_channel), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return;
  auto* ch = static_cast<vtrace_channel*>(p);
  if (ch->magic == VTRACE_CHANNEL_MAGIC) __atomic_store_n(&ch->attached, 0u, __ATOMIC_RELEASE);
  munmap(p, sizeof(vtrace_channel));
}

std::string errno_text(const char* what) {
  return std::string(what) + ": " + strerror(errno);
}

// The effective uid and gid of process `pid` (/proc/PID/status): what probe.h compares the
// channel's owner with. The owner of /proc/PID is root for a process that is not dumpable.
bool process_ids(pid_t pid, uid_t& uid, gid_t& gid) {
  std::string path = "/proc/" + std::to_string(pid) + "/status";
  FILE* f = std::fopen(path.c_str(), "re");
  if (f == nullptr) return false;
  char line[256];
  unsigned long r = 0, e = 0;
  int found = 0;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::sscanf(line, "Uid: %lu %lu", &r, &e) == 2) {
      uid = static_cast<uid_t>(e);
      found |= 1;
    } else if (std::sscanf(line, "Gid: %lu %lu", &r, &e) == 2) {
      gid = static_cast<gid_t>(e);
      found |= 2;
    }
  }
  std::fclose(f);
  return found == 3;
}

// One step smaller: fewer rings (down to kKeepRings), then shorter rings, then fewer again.
bool shrink(uint32_t& nrings, uint32_t& nslots, uint32_t keep_rings) {
  if (nrings > keep_rings) {
    nrings = std::max(keep_rings, nrings / 2);
  } else if (nslots > kMinSlots) {
    nslots /= 2;
  } else if (nrings > 1) {
    nrings /= 2;
  } else {
    return false;
  }
  return true;
}

std::string kib(uint64_t bytes) {
  return std::to_string((bytes + 1023) / 1024) + " KiB";
}

// Allocates `len` bytes at `off` of `fd` for real, so no page there can fault for want of room
// (tmpfs SIGBUSes whoever touches a page of a sparse file it cannot hold). 0 or an errno.
int allocate(int fd, uint64_t off, uint64_t len) {
  if (fallocate(fd, 0, static_cast<off_t>(off), static_cast<off_t>(len)) == 0) return 0;
  // A file system without fallocate (ramfs) has no size limit to run into.
  return errno == EOPNOTSUPP ? 0 : errno;
}

// True when `fd` (locked by the caller) is a channel whose tracer is gone: a complete header,
// or a file too old to be one a tracer is still writing.
bool stale_channel(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return false;
  if (static_cast<uint64_t>(st.st_size) >= sizeof(vtrace_channel)) {
    uint64_t magic = 0;
    if (pread(fd, &magic, sizeof magic, 0) == sizeof magic && magic == VTRACE_CHANNEL_MAGIC)
      return true;
  }
  return time(nullptr) - st.st_mtime > kCreationGraceSec;
}

}  // namespace

size_t remove_stale_channels(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return 0;
  size_t removed = 0;
  while (dirent* e = readdir(d)) {
    const char* name = e->d_name;
    if (std::strncmp(name, "vtrace.", 7) != 0 || name[7] == '\0' ||
        std::strspn(name + 7, "0123456789") != std::strlen(name + 7))
      continue;
    std::string path = dir + "/" + name;
    int fd = open(path.c_str(), O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
      // A symlink under a channel's name is never one (probe.h does not follow it).
      if (errno == ELOOP && unlink(path.c_str()) == 0) ++removed;
      continue;
    }
    // A live tracer holds the lock from creation to removal.
    if (flock(fd, LOCK_EX | LOCK_NB) == 0 && stale_channel(fd)) {
      mark_stale_detached(fd);  // a process still mapping it looks for a new tracer's channel
      if (unlink(path.c_str()) == 0) ++removed;
    }
    close(fd);
  }
  closedir(d);
  return removed;
}

uint32_t slots_for_bufsize(uint64_t bufsize) {
  uint64_t n = bufsize / VTRACE_RECORD_SIZE;
  uint32_t slots = 16;
  while (slots < (1u << 20) && uint64_t{slots} * 2 <= n) slots *= 2;
  return slots;
}

ChannelLayout channel_layout(uint32_t nrings, uint32_t nslots) {
  ChannelLayout l;
  l.ring_offset = static_cast<uint32_t>(round_up(sizeof(vtrace_channel), kCacheLine));
  l.ring_stride = round_up(sizeof(vtrace_ring) + uint64_t{nslots} * VTRACE_RECORD_SIZE, kCacheLine);
  l.agg_offset = round_up(l.ring_offset + uint64_t{nrings} * l.ring_stride, kCacheLine);
  l.total_size = l.agg_offset + uint64_t{kSiteOpsEntries} * sizeof(vtrace_site_ops) +
                 uint64_t{nrings} * kAggSlotsPerRing * sizeof(uint64_t);
  return l;
}

void init_channel(void* mem, const ChannelConfig& cfg) {
  ChannelLayout l = channel_layout(cfg.nrings, cfg.nslots);
  auto* ch = static_cast<vtrace_channel*>(mem);
  std::memset(mem, 0, sizeof(vtrace_channel));
  ch->version = VTRACE_ABI_VERSION;
  ch->flags = (cfg.sync ? VTRACE_CHAN_SYNC : 0u) | (cfg.tsc ? VTRACE_CHAN_TSC : 0u) |
              (cfg.no_spin ? VTRACE_CHAN_NO_SPIN : 0u) | (cfg.inflight ? VTRACE_CHAN_INFLIGHT : 0u);
  ch->nrings = cfg.nrings;
  ch->nslots = cfg.nslots;
  ch->record_size = VTRACE_RECORD_SIZE;
  ch->ring_offset = l.ring_offset;
  ch->ring_stride = l.ring_stride;
  ch->total_size = l.total_size;
  ch->agg_offset = l.agg_offset;
  ch->nsite_ops = kSiteOpsEntries;
  ch->agg_slots = kAggSlotsPerRing;
  ch->attached = 1;
  // The magic last: a site that maps the file sees a complete header or none.
  __atomic_store_n(&ch->magic, VTRACE_CHANNEL_MAGIC, __ATOMIC_RELEASE);
}

std::string channel_path(pid_t pid) {
  return "/dev/shm/vtrace." + std::to_string(pid);
}

std::unique_ptr<Channel> Channel::create(pid_t pid, const ChannelConfig& cfg, std::string& error,
                                         const std::string& path) {
  if (cfg.nrings == 0 || cfg.nrings > VTRACE_MAX_RINGS || cfg.nslots < 2 ||
      cfg.nslots > VTRACE_MAX_SLOTS || (cfg.nslots & (cfg.nslots - 1)) != 0) {
    error = "invalid channel geometry";
    return nullptr;
  }
  std::unique_ptr<Channel> c(new Channel());
  c->path_ = path.empty() ? channel_path(pid) : path;

  int fd = -1;
  for (int attempt = 0; attempt < 3 && fd < 0; ++attempt) {
    fd = open(c->path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) break;
    if (errno != EEXIST) {
      error = errno_text(c->path_.c_str());
      return nullptr;
    }
    // It exists: a live tracer holds its lock; a dead one's file is replaced.
    int old = open(c->path_.c_str(), O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (old >= 0) {
      if (flock(old, LOCK_EX | LOCK_NB) != 0) {
        close(old);
        error = "pid " + std::to_string(pid) + " is already traced by another vtrace (" + c->path_ +
                ")";
        return nullptr;
      }
      mark_stale_detached(old);
    }
    int unlinked = unlink(c->path_.c_str());
    int unlink_errno = errno;
    if (old >= 0) close(old);
    if (unlinked != 0 && unlink_errno != ENOENT) {
      error = c->path_ + " exists and cannot be replaced (" + strerror(unlink_errno) + ")";
      return nullptr;
    }
  }
  if (fd < 0) {
    error = errno_text(c->path_.c_str());
    return nullptr;
  }
  c->fd_ = fd;
  // Held until detach. Blocking: a sweep of stale channels may hold it for a moment.
  if (flock(fd, LOCK_EX) != 0) {
    error = errno_text("flock");
    c->detach();
    return nullptr;
  }
  // The traced process (maybe another user's) must be able to open it, and probe.h uses it only
  // if its owner is the process's euid; nobody else may open it.
  uid_t uid = geteuid();
  gid_t gid = getegid();
  struct stat proc_st;
  std::string proc = "/proc/" + std::to_string(pid);
  if (!process_ids(pid, uid, gid) && stat(proc.c_str(), &proc_st) == 0) {
    uid = proc_st.st_uid;
    gid = proc_st.st_gid;
  }
  if ((uid != geteuid() || gid != getegid()) && fchown(fd, uid, gid) != 0) {
    error = errno_text("fchown");
    c->detach();
    return nullptr;
  }
  // Rings within what the file system holds: at most half its free space (other channels and
  // guests share it). The header and the ring headers (what the host reads of every ring) are
  // allocated now; a ring's records when a thread claims it (probe.h populates it and leaves it
  // unused when that fails) and before the host reads them (back_ring): no page of the file
  // can SIGBUS either side, and memory goes only to rings in use.
  uint32_t nrings = cfg.nrings, nslots = cfg.nslots;
  const uint32_t keep_rings = std::min(kKeepRings, cfg.nrings);
  uint64_t free_bytes = UINT64_MAX;
  struct statvfs sv;
  if (fstatvfs(fd, &sv) == 0 && sv.f_blocks != 0)  // 0: no limit (ramfs)
    free_bytes = static_cast<uint64_t>(sv.f_bavail) * sv.f_frsize;
  while (channel_layout(nrings, nslots).total_size > free_bytes / 2 &&
         shrink(nrings, nslots, keep_rings)) {
  }
  c->layout_ = channel_layout(nrings, nslots);
  int err = ftruncate(fd, static_cast<off_t>(c->layout_.total_size)) == 0 ? 0 : errno;
  if (err == 0) err = allocate(fd, 0, c->layout_.ring_offset);
  for (uint32_t i = 0; i < nrings && err == 0; ++i)
    err = allocate(fd, c->layout_.ring_offset + uint64_t{i} * c->layout_.ring_stride,
                   sizeof(vtrace_ring));
  if (err == 0)  // the site aggregation area, small and written by any thread
    err = allocate(fd, c->layout_.agg_offset, c->layout_.total_size - c->layout_.agg_offset);
  if (err != 0 || channel_layout(nrings, nslots).total_size > free_bytes) {
    error = err == ENOSPC || err == 0
                ? "no room for a channel in " + c->path_ + ": " + kib(free_bytes) +
                      " free, the smallest needs " + kib(channel_layout(1, kMinSlots).total_size)
                : "allocating " + c->path_ + ": " + strerror(err);
    c->detach();
    return nullptr;
  }
  c->nrings_ = nrings;
  c->nslots_ = nslots;
  if (nrings != cfg.nrings || nslots != cfg.nslots)
    c->size_note_ = "channel cut to " + std::to_string(nrings) + " rings of " +
                    std::to_string(nslots) + " records (" + std::to_string(cfg.nrings) + " of " +
                    std::to_string(cfg.nslots) + " asked): " + kib(free_bytes) + " free for " +
                    c->path_;
  void* p = mmap(nullptr, c->layout_.total_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    error = errno_text("mmap");
    c->detach();
    return nullptr;
  }
  c->ch_ = static_cast<vtrace_channel*>(p);
  ChannelConfig fitted = cfg;
  fitted.nrings = nrings;
  fitted.nslots = nslots;
  init_channel(p, fitted);
  return c;
}

Channel::~Channel() {
  detach();
}

void Channel::set_sync(bool sync) {
  uint32_t f = __atomic_load_n(&ch_->flags, __ATOMIC_ACQUIRE);
  f = sync ? (f | VTRACE_CHAN_SYNC) : (f & ~VTRACE_CHAN_SYNC);
  __atomic_store_n(&ch_->flags, f, __ATOMIC_RELEASE);
}

void Channel::heartbeat() {
  if (ch_ != nullptr) __atomic_fetch_add(&ch_->heartbeat, 1, __ATOMIC_RELEASE);
}

uint32_t Channel::client_pid() const {
  return ch_ == nullptr ? 0 : __atomic_load_n(&ch_->client_pid, __ATOMIC_ACQUIRE);
}

void Channel::open_gate() {
  if (ch_ == nullptr) return;
  __atomic_store_n(&ch_->go, 1u, __ATOMIC_SEQ_CST);
  // Shared mapping between processes: the plain (not _PRIVATE) futex.
  syscall(SYS_futex, &ch_->go, FUTEX_WAKE, INT32_MAX, nullptr, nullptr, 0);
}

void mark_ring_done(vtrace_ring* r, uint64_t pos) {
  __atomic_store_n(&r->done, pos + 1, __ATOMIC_SEQ_CST);
  __atomic_store_n(&r->done_futex, static_cast<uint32_t>(pos + 1), __ATOMIC_SEQ_CST);
  // The site sets `waiting` before it reads done and sleeps: either it sees the new done, or we
  // see its flag and wake it. Clearing the flag saves a syscall on the next record.
  if (__atomic_exchange_n(&r->waiting, 0u, __ATOMIC_SEQ_CST) != 0)
    syscall(SYS_futex, &r->done_futex, FUTEX_WAKE, INT32_MAX, nullptr, nullptr, 0);
}

vtrace_site_ops* Channel::site_ops(uint32_t i) const {
  if (ch_ == nullptr || i >= kSiteOpsEntries) return nullptr;
  return reinterpret_cast<vtrace_site_ops*>(reinterpret_cast<char*>(ch_) + layout_.agg_offset) + i;
}

uint64_t Channel::agg_slot(uint32_t ring, uint32_t slot) const {
  if (ch_ == nullptr || ring >= nrings_ || slot >= kAggSlotsPerRing) return 0;
  const auto* slots =
      reinterpret_cast<const uint64_t*>(reinterpret_cast<const char*>(ch_) + layout_.agg_offset +
                                        uint64_t{kSiteOpsEntries} * sizeof(vtrace_site_ops));
  return __atomic_load_n(&slots[uint64_t{ring} * kAggSlotsPerRing + slot], __ATOMIC_ACQUIRE);
}

bool Channel::back_ring(uint32_t i) {
  return fd_ >= 0 && i < nrings_ &&
         allocate(fd_, layout_.ring_offset + uint64_t{i} * layout_.ring_stride,
                  layout_.ring_stride) == 0;
}

Channel::RingState Channel::ready_ring(uint32_t i) {
  if (i >= nrings_ || ch_ == nullptr) return RingState::kEmpty;
  if (ring_state_.size() != nrings_) ring_state_.assign(nrings_, RingState::kEmpty);
  RingState& s = ring_state_[i];
  if (s != RingState::kEmpty) return s == RingState::kReadable ? s : RingState::kEmpty;
  if (__atomic_load_n(&ring_at_host(i)->head, __ATOMIC_ACQUIRE) == 0) return RingState::kEmpty;
  // Records the site could not have written (it backs a ring before using it): never read.
  s = back_ring(i) ? RingState::kReadable : RingState::kCorrupt;
  return s;
}

void Channel::mark_done(uint32_t i, uint64_t pos) {
  if (ch_ != nullptr && i < nrings_) mark_ring_done(ring_at_host(i), pos);
}

uint64_t Channel::unsynced() const {
  return ch_ == nullptr ? 0 : __atomic_load_n(&ch_->unsynced, __ATOMIC_RELAXED);
}

uint64_t Channel::no_ring_drops() const {
  return ch_ == nullptr ? 0 : __atomic_load_n(&ch_->no_ring_drops, __ATOMIC_RELAXED);
}

void Channel::detach() {
  if (ch_ != nullptr) {
    __atomic_store_n(&ch_->attached, 0u, __ATOMIC_SEQ_CST);
    // Wake every sync waiter so it sees attached == 0 now rather than at its next timeout.
    for (uint32_t i = 0; i < nrings_; ++i) {
      vtrace_ring* r = ring_at_host(i);
      syscall(SYS_futex, &r->done_futex, FUTEX_WAKE, INT32_MAX, nullptr, nullptr, 0);
    }
    syscall(SYS_futex, &ch_->go, FUTEX_WAKE, INT32_MAX, nullptr, nullptr, 0);
    munmap(ch_, layout_.total_size);
    ch_ = nullptr;
  }
  if (fd_ >= 0) {
    unlink(path_.c_str());
    close(fd_);  // releases the lock
    fd_ = -1;
  }
}

void Channel::wait_doorbell(uint64_t ns) {
  if (ch_ == nullptr || ns == 0) return;
  const uint32_t seen = __atomic_load_n(&ch_->doorbell, __ATOMIC_ACQUIRE);
  __atomic_store_n(&ch_->host_sleeping, 1, __ATOMIC_SEQ_CST);
  // A ring that passed half full before host_sleeping was visible rang no bell: look first.
  bool busy = false;
  for (uint32_t i = 0; i < nrings_ && !busy; ++i) {
    vtrace_ring* r = ring_at_host(i);
    busy =
        __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) >=
        nslots_ / 2;
  }
  if (!busy) {
    timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
    syscall(SYS_futex, &ch_->doorbell, FUTEX_WAIT, seen, &ts, nullptr, 0);
  }
  __atomic_store_n(&ch_->host_sleeping, 0, __ATOMIC_RELAXED);
}

}  // namespace vtrace::transport
