// libFuzzer target: arbitrary bytes as what a traced process writes into shared memory.
//
// The first byte picks the use of the rest:
//   even: a ring image (ring header + 16 record slots) read by transport::RingReader, polled
//         several times (the head as the image gives it, then pushed along), with a probe map
//         of two descriptors (one a string probe);
//   odd:  a probe-table image: 48-byte descriptors decoded by sys::decode_descriptor, whose
//         string pointers are offsets into the input itself.
//
// Invariant: no crash, hang or sanitizer report for any input; what the reader returns always
// passes its own validation (nargs <= 10, known probe, string NUL-terminated within tail_len).
//
// Seeds: fuzz/corpus/record/. Run: see fuzz/CMakeLists.txt.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "sys/elf_probes.h"
#include "transport/ring_reader.h"

namespace {

constexpr uint32_t kSlots = 16;

void fuzz_ring(const uint8_t* data, size_t size) {
  const size_t bytes = sizeof(vtrace_ring) + kSlots * VTRACE_RECORD_SIZE;
  std::vector<uint64_t> mem((bytes + 7) / 8, 0);
  std::memcpy(mem.data(), data, size < bytes ? size : bytes);
  auto* ring = reinterpret_cast<vtrace_ring*>(mem.data());
  vtrace::transport::ProbeMap probes;
  probes[0] = {4, 0, 2};
  probes[48] = {5, VTRACE_DESC_STR0, 1};
  vtrace::transport::RejectCounts counts;
  vtrace::transport::RingReader reader(ring, kSlots, &probes, &counts);
  std::vector<vtrace::transport::RingRecord> out;
  for (int round = 0; round < 4; ++round) {
    out.clear();
    reader.poll(out, 64);
    for (const auto& r : out) {
      if (r.rec.nargs > VTRACE_MAX_ARGS || probes.count(r.rec.probe) == 0) std::abort();
      if (r.rec.tail_len > VTRACE_TAIL_SIZE) std::abort();
      if (r.rec.tail_len > 0 && std::memchr(r.rec.tail, '\0', r.rec.tail_len) == nullptr)
        std::abort();
    }
    ring->head = ring->head + round + 1;  // a producer moving on (or lying)
  }
  (void)counts.summary();
}

struct Input {
  const uint8_t* data;
  size_t size;
};

// Addresses in a descriptor are offsets into the input.
size_t read_input(void* ctx, uint64_t addr, void* buf, size_t len) {
  auto* in = static_cast<Input*>(ctx);
  if (addr >= in->size) return 0;
  size_t n = in->size - addr < len ? in->size - addr : len;
  std::memcpy(buf, in->data + addr, n);
  return n;
}

void fuzz_table(const uint8_t* data, size_t size) {
  Input in{data, size};
  for (size_t off = 0; off + 48 <= size && off < 48 * 64; off += 48) {
    vtrace::sys::ProbeSite site;
    if (vtrace::sys::decode_descriptor(data + off, 48, read_input, &in, site)) {
      if (site.nargs > VTRACE_MAX_ARGS || site.provider.empty() || site.name.empty() ||
          site.provider.size() >= vtrace::sys::kMaxProbeString)
        std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if ((data[0] & 1) == 0) {
    fuzz_ring(data + 1, size - 1);
  } else {
    fuzz_table(data + 1, size - 1);
  }
  return 0;
}
