// One perf_event fd and its mmap'd ring (perf_event_mmap_page + 2^n data pages), as the host
// target's kernel tracepoints and USDT uprobes use it. read() walks the records between
// data_tail and data_head (load-acquire of data_head, store-release of data_tail, as the kernel
// ABI requires), copies records that wrap around the end of the buffer into a scratch buffer,
// hands PERF_RECORD_SAMPLE bodies to a callback and counts PERF_RECORD_LOST. parse_sample()
// decodes a sample body for the attr's sample_type. Everything read from the ring is
// bounds-checked: a malformed size never reads outside the mapping.
#pragma once
#include <linux/perf_event.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace vtrace::sys {

// The sample_type bits parse_sample() knows how to walk, in the kernel's layout order.
inline constexpr uint64_t kSupportedSampleType =
    PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
    PERF_SAMPLE_ADDR | PERF_SAMPLE_ID | PERF_SAMPLE_STREAM_ID | PERF_SAMPLE_CPU |
    PERF_SAMPLE_PERIOD | PERF_SAMPLE_CALLCHAIN | PERF_SAMPLE_RAW | PERF_SAMPLE_REGS_USER |
    PERF_SAMPLE_STACK_USER;

// What parse_sample() needs from the perf_event_attr.
struct SampleLayout {
  uint64_t sample_type = 0;
  uint64_t regs_user_mask = 0;  // attr.sample_regs_user

  static SampleLayout of(const perf_event_attr& attr) {
    return {attr.sample_type, attr.sample_regs_user};
  }
};

// A decoded PERF_RECORD_SAMPLE. Pointers point into the record body passed to parse_sample()
// (valid only during the read() callback). Fields whose sample_type bit is unset stay zero.
struct SampleView {
  uint64_t id = 0;  // PERF_SAMPLE_IDENTIFIER or PERF_SAMPLE_ID
  uint64_t ip = 0;
  uint32_t pid = 0, tid = 0;
  uint64_t time = 0;
  uint64_t addr = 0;
  uint32_t cpu = 0;
  uint64_t period = 0;
  const uint8_t* callchain = nullptr;  // callchain_nr u64 entries (unaligned: use callchain_at)
  uint64_t callchain_nr = 0;
  const uint8_t* raw = nullptr;  // PERF_SAMPLE_RAW: the tracepoint's record
  uint32_t raw_size = 0;
  // PERF_SAMPLE_REGS_USER: abi is PERF_SAMPLE_REGS_ABI_NONE (0) when the task had no user
  // registers (a kernel thread); then regs_nr is 0. Registers are in mask bit order.
  uint64_t regs_abi = 0;
  const uint8_t* regs = nullptr;
  uint32_t regs_nr = 0;
  // PERF_SAMPLE_STACK_USER: stack_size bytes copied from the user stack pointer, of which
  // stack_dyn_size are valid.
  const uint8_t* stack = nullptr;
  uint64_t stack_size = 0;
  uint64_t stack_dyn_size = 0;

  uint64_t reg(uint32_t i) const {
    uint64_t v = 0;
    if (i < regs_nr) std::memcpy(&v, regs + 8 * size_t{i}, 8);
    return v;
  }
  uint64_t callchain_at(uint64_t i) const {
    uint64_t v = 0;
    if (i < callchain_nr) std::memcpy(&v, callchain + 8 * i, 8);
    return v;
  }
};

// Splits a perf callchain (`n` u64s, unaligned) at its context markers (PERF_CONTEXT_KERNEL,
// _USER, each followed by that context's frames) into kernel and user return addresses
// (cleared first); other contexts' frames (a host's view of guest frames) are skipped.
void split_callchain(const uint8_t* chain, uint64_t n, std::vector<uint64_t>& kernel,
                     std::vector<uint64_t>& user);

// Decodes a sample body (the record after its perf_event_header). False when the body is too
// short for the layout or the layout has bits this parser does not know.
bool parse_sample(const uint8_t* body, size_t len, const SampleLayout& layout, SampleView& out);

// Counters of one ring.
struct RingStats {
  uint64_t samples = 0;    // PERF_RECORD_SAMPLE delivered
  uint64_t lost = 0;       // events the kernel dropped (sum of PERF_RECORD_LOST.lost)
  uint64_t malformed = 0;  // records (or ring states) rejected as inconsistent
  uint64_t other = 0;      // other record types, skipped
};

class PerfRing {
 public:
  PerfRing() = default;
  ~PerfRing();
  PerfRing(PerfRing&& o) noexcept;
  PerfRing& operator=(PerfRing&& o) noexcept;
  PerfRing(const PerfRing&) = delete;
  PerfRing& operator=(const PerfRing&) = delete;

  // perf_event_open(attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC), then mmap of 1 + data_pages pages
  // (data_pages must be a power of two; 0 = open without a ring). Returns 0 or an errno; the
  // ring stays closed on failure. `attr.size` is set here.
  int open(perf_event_attr attr, int pid, int cpu, size_t data_pages);
  // Uses memory the caller owns (a synthetic ring for tests): `header` and `data_size` bytes of
  // `data` (a power of two). No fd: enable()/disable() fail.
  bool attach(perf_event_mmap_page* header, uint8_t* data, size_t data_size);
  void close();

  bool is_open() const { return header_ != nullptr || fd_ >= 0; }
  int fd() const { return fd_; }
  size_t data_size() const { return data_size_; }
  // PERF_EVENT_IOC_ENABLE / DISABLE; 0 or an errno.
  int enable();
  int disable();
  // PERF_EVENT_IOC_SET_OUTPUT: this event's records go to `ring`'s buffer (same CPU); this
  // event must have been opened without a ring. 0 or an errno.
  int redirect_to(const PerfRing& ring);
  // PERF_EVENT_IOC_ID: the id PERF_SAMPLE_IDENTIFIER carries for this event. 0 or an errno.
  int event_id(uint64_t& id) const;

  // Delivers each PERF_RECORD_SAMPLE body (bytes after the perf_event_header) to
  // fn(const uint8_t* body, size_t len), at most max_records records; returns how many records
  // (of any type) were consumed. The body is valid only during the call.
  template <class F>
  size_t read(F&& fn, size_t max_records = SIZE_MAX) {
    using Fn = std::remove_reference_t<F>;
    return read_impl(
        [](void* ctx, uint32_t type, const uint8_t* body, size_t len) {
          if (type == PERF_RECORD_SAMPLE) (*static_cast<Fn*>(ctx))(body, len);
        },
        const_cast<void*>(static_cast<const void*>(&fn)), max_records);
  }
  // As read(), but every record with a valid size goes to fn(uint32_t type, body, len)
  // (PERF_RECORD_COMM, FORK, EXIT, ... as well; LOST is still counted).
  template <class F>
  size_t read_all(F&& fn, size_t max_records = SIZE_MAX) {
    using Fn = std::remove_reference_t<F>;
    return read_impl([](void* ctx, uint32_t type, const uint8_t* body,
                        size_t len) { (*static_cast<Fn*>(ctx))(type, body, len); },
                     const_cast<void*>(static_cast<const void*>(&fn)), max_records);
  }
  // As read_all(), with samples parsed by `layout` and told apart by PERF_SAMPLE_IDENTIFIER:
  // on_sample(view, ids[view.id]) for a sample of a known event, on_other(type, body, len) for
  // other records; a sample that does not parse or names no known event counts in `malformed`.
  template <class Id, class OnSample, class OnOther>
  size_t read_identified(const SampleLayout& layout, const std::unordered_map<uint64_t, Id>& ids,
                         uint64_t& malformed, OnSample&& on_sample, OnOther&& on_other,
                         size_t max_records = SIZE_MAX) {
    return read_all(
        [&](uint32_t type, const uint8_t* body, size_t len) {
          if (type != PERF_RECORD_SAMPLE) {
            on_other(type, body, len);
            return;
          }
          SampleView s;
          auto it = ids.end();
          if (!parse_sample(body, len, layout, s) || (it = ids.find(s.id)) == ids.end()) {
            ++malformed;
            return;
          }
          on_sample(s, it->second);
        },
        max_records);
  }
  // Bytes waiting in the ring (0 when closed).
  uint64_t pending() const;

  const RingStats& stats() const { return stats_; }

 private:
  using Callback = void (*)(void*, uint32_t, const uint8_t*, size_t);
  size_t read_impl(Callback cb, void* ctx, size_t max_records);
  void copy_out(uint64_t pos, size_t len, uint8_t* dst) const;

  int fd_ = -1;
  void* map_ = nullptr;  // what open() mapped (nullptr for attach())
  size_t map_len_ = 0;
  perf_event_mmap_page* header_ = nullptr;
  uint8_t* data_ = nullptr;
  size_t data_size_ = 0;  // a power of two
  std::vector<uint8_t> scratch_;
  RingStats stats_;
};

// The perf_event_attr of a tracepoint (PERF_TYPE_TRACEPOINT, config = its tracefs id), one
// sample per event with TID | TIME | CPU | RAW, timestamps in CLOCK_MONOTONIC, disabled.
perf_event_attr tracepoint_attr(uint64_t tracepoint_id);

// A message naming the cause and the fix of a perf_event_open / mmap failure.
std::string perf_error_message(int err, const std::string& what);

// The online CPUs, from /sys/devices/system/cpu/online (0..sysconf's count - 1 without it).
std::vector<uint32_t> online_cpu_list();

// ev.open(attr, -1, cpu, pages): every task on one CPU. When the open-file limit runs out (one fd
// per tracepoint and CPU), raises the soft limit to the hard one and tries once more; with
// raise_hard, a soft limit already at the hard one raises both 4x (root may: the guest agent).
// 0 or an errno.
// Makes the event also report the task records an execname cache follows (COMM, exec
// included, FORK, EXIT), stamped like its samples (sample_id_all).
inline void want_task_records(perf_event_attr& attr) {
  attr.comm = 1;
  attr.comm_exec = 1;
  attr.task = 1;
  attr.sample_id_all = 1;
}

int open_cpu_event(PerfRing& ev, const perf_event_attr& attr, uint32_t cpu, size_t pages,
                   bool raise_hard = false);

}  // namespace vtrace::sys
