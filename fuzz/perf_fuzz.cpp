// libFuzzer target: arbitrary bytes as a perf_event ring (src/sys/perf_ring.h): the
// records between data_tail and data_head, walked by PerfRing::read_all over a synthetic ring
// (PerfRing::attach), and each PERF_RECORD_SAMPLE body decoded by parse_sample for a sample
// layout the input chooses. The kernel writes these rings, but their sizes and counts must never
// make vtrace read outside the mapping.
//
// Input: 32 bytes of control, then the ring's data (from its start; the rest of it is zeros):
//   u64 sample_type   (bits parse_sample does not know make it refuse the layout)
//   u64 regs_user_mask
//   u32 tail          (data_tail; data_head = tail + avail)
//   u32 avail
//   u8  size_log2     (data size 2^(6 + size_log2 % 7): 64 B .. 4 KiB)
//   u8  max_records   (per read; 0: no limit)
//   6 bytes unused
//
// Invariants: no crash, hang or sanitizer report; a record handed over lies in the ring (its
// body at most data size - 8 bytes); a decoded sample's callchain, raw data, registers and stack
// lie inside its body, in that order, and stack_dyn_size <= stack_size; read() consumes at most
// max_records records and leaves data_tail at or before data_head (at it when the ring was
// corrupt); nothing is pending once the ring is drained.
//
// Seeds: fuzz/corpus/perf/ (fuzz/make_seeds.py). Run: see fuzz/CMakeLists.txt.
#include <linux/perf_event.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "fuzz_check.h"
#include "sys/perf_ring.h"

namespace {

struct Control {
  uint64_t sample_type = 0;
  uint64_t regs_mask = 0;
  uint32_t tail = 0;
  uint32_t avail = 0;
  uint8_t size_log2 = 0;
  uint8_t max_records = 0;
  uint8_t unused[6] = {};
};
static_assert(sizeof(Control) == 32);

bool within(const uint8_t* p, uint64_t n, const uint8_t* body, size_t len) {
  return p >= body && p <= body + len && n <= static_cast<uint64_t>(body + len - p);
}

void check_sample(const uint8_t* body, size_t len, const vtrace::sys::SampleLayout& layout) {
  vtrace::sys::SampleView v;
  if (!vtrace::sys::parse_sample(body, len, layout, v)) return;
  CHECK((layout.sample_type & ~vtrace::sys::kSupportedSampleType) == 0);
  const uint8_t* at = body;
  if (v.callchain != nullptr) {
    CHECK(within(v.callchain, v.callchain_nr * 8, body, len) && v.callchain >= at);
    at = v.callchain + v.callchain_nr * 8;
    if (v.callchain_nr > 0) (void)v.callchain_at(v.callchain_nr - 1);
  } else {
    CHECK(v.callchain_nr == 0);
  }
  if (v.raw != nullptr) {
    CHECK(within(v.raw, v.raw_size, body, len) && v.raw >= at);
    at = v.raw + v.raw_size;
  } else {
    CHECK(v.raw_size == 0 || (layout.sample_type & PERF_SAMPLE_RAW));
  }
  if (v.regs != nullptr) {
    CHECK(v.regs_nr <= 64 && within(v.regs, uint64_t{v.regs_nr} * 8, body, len) && v.regs >= at);
    at = v.regs + uint64_t{v.regs_nr} * 8;
    if (v.regs_nr > 0) (void)v.reg(v.regs_nr - 1);
  } else {
    CHECK(v.regs_nr == 0);
  }
  if (v.stack != nullptr) {
    CHECK(within(v.stack, v.stack_size, body, len) && v.stack >= at);
    CHECK(v.stack_dyn_size <= v.stack_size);
  } else {
    CHECK(v.stack_size == 0 && v.stack_dyn_size == 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Control c;
  std::memcpy(&c, data, std::min(size, sizeof c));
  const size_t ctl = std::min(size, sizeof c);
  data += ctl;
  size -= ctl;

  const size_t data_size = size_t{64} << (c.size_log2 % 7);
  static perf_event_mmap_page header;
  static std::vector<uint8_t> ring;
  std::memset(&header, 0, sizeof header);
  ring.assign(data_size, 0);
  std::memcpy(ring.data(), data, std::min(size, data_size));
  const uint64_t head = uint64_t{c.tail} + c.avail;
  header.data_tail = c.tail;
  header.data_head = head;

  vtrace::sys::PerfRing r;
  CHECK(r.attach(&header, ring.data(), data_size));
  const vtrace::sys::SampleLayout layout{c.sample_type, c.regs_mask};
  const size_t max = c.max_records == 0 ? SIZE_MAX : c.max_records;
  size_t delivered = 0;
  const size_t n = r.read_all(
      [&](uint32_t type, const uint8_t* body, size_t len) {
        ++delivered;
        CHECK(len + sizeof(perf_event_header) <= data_size);
        if (len > 0) CHECK(body != nullptr);
        if (type == PERF_RECORD_SAMPLE) {
          check_sample(body, len, layout);
          // The layout the host's tracepoints use, and the one USDT probes use.
          check_sample(body, len,
                       {PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU | PERF_SAMPLE_RAW |
                            PERF_SAMPLE_IDENTIFIER,
                        0});
          check_sample(body, len,
                       {PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
                            PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER,
                        c.regs_mask & 0xff01ffull});
        }
      },
      max);
  CHECK(n <= max && delivered <= n);
  const uint64_t tail = header.data_tail;
  CHECK(head - tail <= c.avail);
  CHECK(r.pending() == head - tail);
  // Drain what is left; a second reader over the same ring sees the same bounds.
  while (r.pending() >= sizeof(perf_event_header)) {
    const uint64_t before = r.pending();
    if (r.read([&](const uint8_t*, size_t len) { CHECK(len < data_size); }, 1) == 0) break;
    CHECK(r.pending() < before);
  }
  const vtrace::sys::RingStats& st = r.stats();
  CHECK(st.samples + st.other <= n + (c.avail / sizeof(perf_event_header)) + 1);
  return 0;
}
