#include "sys/perf_ring.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <utility>

namespace vtrace::sys {

namespace {

// A cursor over a sample body: every take checks the remaining length.
struct Cursor {
  const uint8_t* p;
  size_t left;

  bool u64(uint64_t& v) {
    if (left < 8) return false;
    std::memcpy(&v, p, 8);
    p += 8;
    left -= 8;
    return true;
  }
  bool u32x2(uint32_t& a, uint32_t& b) {
    if (left < 8) return false;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + 4, 4);
    p += 8;
    left -= 8;
    return true;
  }
  bool bytes(uint64_t n, const uint8_t*& out) {
    if (n > left) return false;
    out = p;
    p += n;
    left -= n;
    return true;
  }
};

bool power_of_two(size_t n) {
  return n != 0 && (n & (n - 1)) == 0;
}

int read_int_file(const char* path, int fallback) {
  std::ifstream in(path);
  int v = fallback;
  if (in >> v) return v;
  return fallback;
}

}  // namespace

bool parse_sample(const uint8_t* body, size_t len, const SampleLayout& layout, SampleView& out) {
  out = SampleView{};
  const uint64_t t = layout.sample_type;
  if (t & ~kSupportedSampleType) return false;
  if (!body && len) return false;
  Cursor c{body, len};
  uint32_t pad = 0;
  if ((t & PERF_SAMPLE_IDENTIFIER) && !c.u64(out.id)) return false;
  if ((t & PERF_SAMPLE_IP) && !c.u64(out.ip)) return false;
  if ((t & PERF_SAMPLE_TID) && !c.u32x2(out.pid, out.tid)) return false;
  if ((t & PERF_SAMPLE_TIME) && !c.u64(out.time)) return false;
  if ((t & PERF_SAMPLE_ADDR) && !c.u64(out.addr)) return false;
  if ((t & PERF_SAMPLE_ID) && !c.u64(out.id)) return false;
  uint64_t stream_id = 0;
  if ((t & PERF_SAMPLE_STREAM_ID) && !c.u64(stream_id)) return false;
  if ((t & PERF_SAMPLE_CPU) && !c.u32x2(out.cpu, pad)) return false;
  if ((t & PERF_SAMPLE_PERIOD) && !c.u64(out.period)) return false;
  if (t & PERF_SAMPLE_CALLCHAIN) {
    if (!c.u64(out.callchain_nr)) return false;
    if (out.callchain_nr > c.left / 8) return false;
    if (!c.bytes(out.callchain_nr * 8, out.callchain)) return false;
  }
  if (t & PERF_SAMPLE_RAW) {
    if (c.left < 4) return false;
    std::memcpy(&out.raw_size, c.p, 4);
    c.p += 4;
    c.left -= 4;
    if (!c.bytes(out.raw_size, out.raw)) return false;
    // The u32 size and the data are padded together to 8 bytes by the kernel (the padding is
    // counted in raw_size); tolerate a writer that did not pad.
  }
  if (t & PERF_SAMPLE_REGS_USER) {
    if (!c.u64(out.regs_abi)) return false;
    if (out.regs_abi != PERF_SAMPLE_REGS_ABI_NONE) {
      out.regs_nr = static_cast<uint32_t>(__builtin_popcountll(layout.regs_user_mask));
      if (!c.bytes(uint64_t{out.regs_nr} * 8, out.regs)) return false;
    }
  }
  if (t & PERF_SAMPLE_STACK_USER) {
    if (!c.u64(out.stack_size)) return false;
    if (out.stack_size != 0) {
      if (!c.bytes(out.stack_size, out.stack)) return false;
      if (!c.u64(out.stack_dyn_size)) return false;
      if (out.stack_dyn_size > out.stack_size) out.stack_dyn_size = out.stack_size;
    }
  }
  return true;
}

PerfRing::~PerfRing() {
  close();
}

PerfRing::PerfRing(PerfRing&& o) noexcept {
  *this = std::move(o);
}

PerfRing& PerfRing::operator=(PerfRing&& o) noexcept {
  if (this == &o) return *this;
  close();
  fd_ = std::exchange(o.fd_, -1);
  map_ = std::exchange(o.map_, nullptr);
  map_len_ = std::exchange(o.map_len_, 0);
  header_ = std::exchange(o.header_, nullptr);
  data_ = std::exchange(o.data_, nullptr);
  data_size_ = std::exchange(o.data_size_, 0);
  scratch_ = std::move(o.scratch_);
  stats_ = std::exchange(o.stats_, RingStats{});
  return *this;
}

void PerfRing::close() {
  if (map_) munmap(map_, map_len_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  map_ = nullptr;
  map_len_ = 0;
  header_ = nullptr;
  data_ = nullptr;
  data_size_ = 0;
}

int PerfRing::open(perf_event_attr attr, int pid, int cpu, size_t data_pages) {
  close();
  if (data_pages != 0 && !power_of_two(data_pages)) return EINVAL;
  attr.size = sizeof(attr);
  long fd = syscall(SYS_perf_event_open, &attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
  if (fd < 0) return errno;
  fd_ = static_cast<int>(fd);
  if (data_pages == 0) return 0;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t len = page * (1 + data_pages);
  void* m = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (m == MAP_FAILED) {
    int err = errno;
    close();
    return err;
  }
  map_ = m;
  map_len_ = len;
  header_ = static_cast<perf_event_mmap_page*>(m);
  data_ = static_cast<uint8_t*>(m) + page;
  data_size_ = page * data_pages;
  return 0;
}

bool PerfRing::attach(perf_event_mmap_page* header, uint8_t* data, size_t data_size) {
  close();
  if (!header || !data || !power_of_two(data_size)) return false;
  header_ = header;
  data_ = data;
  data_size_ = data_size;
  return true;
}

int PerfRing::enable() {
  if (fd_ < 0) return EBADF;
  return ioctl(fd_, PERF_EVENT_IOC_ENABLE, 0) == 0 ? 0 : errno;
}

int PerfRing::disable() {
  if (fd_ < 0) return EBADF;
  return ioctl(fd_, PERF_EVENT_IOC_DISABLE, 0) == 0 ? 0 : errno;
}

int PerfRing::redirect_to(const PerfRing& ring) {
  if (fd_ < 0 || ring.fd_ < 0) return EBADF;
  return ioctl(fd_, PERF_EVENT_IOC_SET_OUTPUT, ring.fd_) == 0 ? 0 : errno;
}

int PerfRing::event_id(uint64_t& id) const {
  if (fd_ < 0) return EBADF;
  return ioctl(fd_, PERF_EVENT_IOC_ID, &id) == 0 ? 0 : errno;
}

uint64_t PerfRing::pending() const {
  if (!header_) return 0;
  uint64_t head = __atomic_load_n(&header_->data_head, __ATOMIC_ACQUIRE);
  uint64_t tail = __atomic_load_n(&header_->data_tail, __ATOMIC_RELAXED);
  return head - tail;
}

void PerfRing::copy_out(uint64_t pos, size_t len, uint8_t* dst) const {
  // len <= data_size_ (checked by the caller).
  size_t off = static_cast<size_t>(pos & (data_size_ - 1));
  size_t first = std::min(len, data_size_ - off);
  std::memcpy(dst, data_ + off, first);
  if (first < len) std::memcpy(dst + first, data_, len - first);
}

size_t PerfRing::read_impl(Callback cb, void* ctx, size_t max_records) {
  if (!header_ || !data_) return 0;
  // The kernel publishes data_head after writing the records: acquire pairs with its release.
  const uint64_t head = __atomic_load_n(&header_->data_head, __ATOMIC_ACQUIRE);
  uint64_t tail = __atomic_load_n(&header_->data_tail, __ATOMIC_RELAXED);
  size_t n = 0;
  if (head - tail > data_size_) {
    // More bytes than the ring holds: the header is corrupt. Drop everything.
    ++stats_.malformed;
    tail = head;
  }
  while (n < max_records && head - tail >= sizeof(perf_event_header)) {
    const uint64_t avail = head - tail;
    perf_event_header eh;
    copy_out(tail, sizeof(eh), reinterpret_cast<uint8_t*>(&eh));
    if (eh.size < sizeof(eh) || eh.size > avail) {
      ++stats_.malformed;
      tail = head;
      break;
    }
    const size_t off = static_cast<size_t>(tail & (data_size_ - 1));
    const uint8_t* rec;
    if (off + eh.size <= data_size_) {
      rec = data_ + off;
    } else {
      scratch_.resize(eh.size);
      copy_out(tail, eh.size, scratch_.data());
      rec = scratch_.data();
    }
    const uint8_t* body = rec + sizeof(eh);
    const size_t body_len = eh.size - sizeof(eh);
    switch (eh.type) {
      case PERF_RECORD_SAMPLE:
        ++stats_.samples;
        cb(ctx, eh.type, body, body_len);
        break;
      case PERF_RECORD_LOST: {
        // struct { u64 id; u64 lost; sample_id }.
        uint64_t lost = 0;
        if (body_len >= 16) {
          std::memcpy(&lost, body + 8, 8);
          stats_.lost += lost;
        } else {
          ++stats_.malformed;
        }
        break;
      }
      default:
        ++stats_.other;
        cb(ctx, eh.type, body, body_len);
        break;
    }
    tail += eh.size;
    ++n;
  }
  // Release: our reads of the records happen before the kernel may overwrite them.
  __atomic_store_n(&header_->data_tail, tail, __ATOMIC_RELEASE);
  return n;
}

perf_event_attr tracepoint_attr(uint64_t tracepoint_id) {
  perf_event_attr a;
  std::memset(&a, 0, sizeof(a));
  a.size = sizeof(a);
  a.type = PERF_TYPE_TRACEPOINT;
  a.config = tracepoint_id;
  a.sample_period = 1;
  a.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU | PERF_SAMPLE_RAW;
  a.disabled = 1;
  a.use_clockid = 1;
  a.clockid = CLOCK_MONOTONIC;
  a.wakeup_events = 0;  // readers poll: no wakeup (irq_work) per event
  a.watermark = 1;
  a.wakeup_watermark = 1u << 30;
  return a;
}

std::string perf_error_message(int err, const std::string& what) {
  std::string m = what + ": " + std::strerror(err);
  switch (err) {
    case EACCES:
    case EPERM: {
      int paranoid = read_int_file("/proc/sys/kernel/perf_event_paranoid", 2);
      m += " (perf_event_paranoid is " + std::to_string(paranoid) +
           "): run vtrace as root, or set /proc/sys/kernel/perf_event_paranoid to -1";
      break;
    }
    case EMFILE:
    case ENFILE: {
      rlimit rl{};
      getrlimit(RLIMIT_NOFILE, &rl);
      m += " (one perf event per tracepoint and CPU; open-file limit is " +
           std::to_string(rl.rlim_cur) + "): raise it with `ulimit -n`, or trace fewer probes";
      break;
    }
    case ENOENT:
    case ENODEV:
      m += ": the tracepoint or PMU does not exist on this kernel";
      break;
    case ENOMEM:
      m += ": lower -x bufsize, or raise /proc/sys/kernel/perf_event_mlock_kb";
      break;
    case E2BIG:
    case EINVAL:
      m += ": this kernel rejects the perf_event_attr (too old?)";
      break;
    default:
      break;
  }
  return m;
}

std::vector<uint32_t> online_cpu_list() {
  std::ifstream in("/sys/devices/system/cpu/online");
  std::string text;
  std::vector<uint32_t> cpus;
  if (!(in >> text)) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    for (long i = 0; i < n; ++i) cpus.push_back(static_cast<uint32_t>(i));
    return cpus;
  }
  std::stringstream ss(text);
  std::string range;
  while (std::getline(ss, range, ',')) {
    unsigned lo = 0, hi = 0;
    if (std::sscanf(range.c_str(), "%u-%u", &lo, &hi) == 2) {
      for (unsigned c = lo; c <= hi && c < 4096; ++c) cpus.push_back(c);
    } else if (std::sscanf(range.c_str(), "%u", &lo) == 1) {
      cpus.push_back(lo);
    }
  }
  return cpus;
}

int open_cpu_event(PerfRing& ev, const perf_event_attr& attr, uint32_t cpu, size_t pages,
                   bool raise_hard) {
  int e = 0;
  for (int attempt = 0; attempt < 2; ++attempt) {
    e = ev.open(attr, -1, static_cast<int>(cpu), pages);
    if (e != EMFILE) break;
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) break;
    if (rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = rl.rlim_max;
    } else if (raise_hard) {
      rl.rlim_cur = rl.rlim_max = rl.rlim_max * 4;
    } else {
      break;
    }
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) break;
  }
  return e;
}

void split_callchain(const uint8_t* chain, uint64_t n, std::vector<uint64_t>& kernel,
                     std::vector<uint64_t>& user) {
  kernel.clear();
  user.clear();
  std::vector<uint64_t>* into = nullptr;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t v = 0;
    std::memcpy(&v, chain + 8 * i, 8);
    if (v >= static_cast<uint64_t>(PERF_CONTEXT_MAX)) {
      into = v == static_cast<uint64_t>(PERF_CONTEXT_KERNEL) ? &kernel
             : v == static_cast<uint64_t>(PERF_CONTEXT_USER) ? &user
                                                              : nullptr;
      continue;
    }
    if (into != nullptr) into->push_back(v);
  }
}

}  // namespace vtrace::sys
