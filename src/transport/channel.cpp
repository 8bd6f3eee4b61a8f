#include "transport/channel.h"

#include <ctime>

#include <fcntl.h>
#include <linux/futex.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vtrace::transport {

namespace {

constexpr uint64_t kCacheLine = 64;

uint64_t round_up(uint64_t v, uint64_t to) {
  return (v + to - 1) / to * to;
}

// Marks a channel left by a dead tracer detached, so a process still mapping it reconnects.
void mark_stale_detached(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0 || static_cast<uint64_t>(st.st_size) < sizeof(vtrace_channel)) return;
  void* p = mmap(nullptr, sizeof(vtrace_channel), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return;
  auto* ch = static_cast<vtrace_channel*>(p);
  if (ch->magic == VTRACE_CHANNEL_MAGIC) __atomic_store_n(&ch->attached, 0u, __ATOMIC_RELEASE);
  munmap(p, sizeof(vtrace_channel));
}

std::string errno_text(const char* what) {
  return std::string(what) + ": " + strerror(errno);
}

}  // namespace

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
  l.total_size = l.ring_offset + uint64_t{nrings} * l.ring_stride;
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
  ch->attached = 1;
  // The magic last: a site that maps the file sees a complete header or none.
  __atomic_store_n(&ch->magic, VTRACE_CHANNEL_MAGIC, __ATOMIC_RELEASE);
}

std::string channel_path(pid_t pid) {
  return "/dev/shm/vtrace." + std::to_string(pid);
}

std::unique_ptr<Channel> Channel::create(pid_t pid, const ChannelConfig& cfg, std::string& error,
                                         const std::string& path) {
  if (cfg.nrings == 0 || cfg.nrings > 4096 || cfg.nslots < 2 ||
      (cfg.nslots & (cfg.nslots - 1)) != 0) {
    error = "invalid channel geometry";
    return nullptr;
  }
  std::unique_ptr<Channel> c(new Channel());
  c->path_ = path.empty() ? channel_path(pid) : path;
  c->layout_ = channel_layout(cfg.nrings, cfg.nslots);
  c->nrings_ = cfg.nrings;
  c->nslots_ = cfg.nslots;

  int fd = -1;
  for (int attempt = 0; attempt < 3 && fd < 0; ++attempt) {
    fd = open(c->path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) break;
    if (errno != EEXIST) {
      error = errno_text(c->path_.c_str());
      return nullptr;
    }
    // It exists: a live tracer holds its lock; a dead one's file is replaced.
    int old = open(c->path_.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (old >= 0) {
      if (flock(old, LOCK_EX | LOCK_NB) != 0) {
        close(old);
        error = "pid " + std::to_string(pid) + " is already traced by another vtrace (" + c->path_ +
                ")";
        return nullptr;
      }
      mark_stale_detached(old);
    }
    unlink(c->path_.c_str());
    if (old >= 0) close(old);
  }
  if (fd < 0) {
    error = errno_text(c->path_.c_str());
    return nullptr;
  }
  c->fd_ = fd;
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    error = errno_text("flock");
    unlink(c->path_.c_str());
    return nullptr;
  }
  // The traced process (maybe another user's) must be able to open it; nobody else may.
  struct stat proc_st;
  std::string proc = "/proc/" + std::to_string(pid);
  if (stat(proc.c_str(), &proc_st) == 0 &&
      (proc_st.st_uid != geteuid() || proc_st.st_gid != getegid())) {
    if (fchown(fd, proc_st.st_uid, proc_st.st_gid) != 0) {
      error = errno_text("fchown");
      unlink(c->path_.c_str());
      return nullptr;
    }
  }
  if (ftruncate(fd, static_cast<off_t>(c->layout_.total_size)) != 0) {
    error = errno_text("ftruncate");
    unlink(c->path_.c_str());
    return nullptr;
  }
  void* p = mmap(nullptr, c->layout_.total_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    error = errno_text("mmap");
    unlink(c->path_.c_str());
    return nullptr;
  }
  c->ch_ = static_cast<vtrace_channel*>(p);
  init_channel(p, cfg);
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

void Channel::mark_done(uint32_t i, uint64_t pos) {
  if (ch_ != nullptr && i < nrings_) mark_ring_done(ring_at_host(i), pos);
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
