// The layout of a guest channel (include/vtrace/guest_abi.h): the host formats it when it starts
// a VM, the agent checks it before using it, and the host keeps its own copy (GuestLayout) so it
// never trusts a size or an offset read back from shared memory.
#pragma once
#include <cstdint>
#include <string>

#include "vtrace/guest_abi.h"

namespace vtrace::transport {

struct GuestLayout {
  uint64_t total_size = 0;
  uint32_t exec_offset = 0, exec_size = 0;
  uint32_t table_offset = 0, max_probes = 0;
  uint32_t enable_offset = 0;
  uint32_t nrings = 0, ring_offset = 0, nslots = 0;
  uint64_t ring_stride = 0;
};

// The layout for a region of `total_size` bytes (16 MiB: 4096 probes, 2 rings of 16384 slots).
// total_size 0 when the region is too small.
GuestLayout guest_layout(uint64_t total_size);

// Writes the header (layout, magic, version) and zeroes the rest of the header.
void init_guest_channel(void* mem, const GuestLayout& layout);

// Reads the layout from a header and checks it (magic, version, record size, everything inside
// `mapped_size`, rings not overlapping the table). Returns "" or what is wrong.
std::string read_guest_layout(const vtrace_guest_header* h, uint64_t mapped_size, GuestLayout& out);

inline vtrace_ring* guest_ring(void* base, const GuestLayout& l, uint32_t i) {
  return reinterpret_cast<vtrace_ring*>(static_cast<char*>(base) + l.ring_offset +
                                        uint64_t{i} * l.ring_stride);
}
inline vtrace_guest_record* guest_slot(vtrace_ring* r, uint32_t nslots, uint64_t pos) {
  return reinterpret_cast<vtrace_guest_record*>(reinterpret_cast<char*>(r) + sizeof(vtrace_ring) +
                                                (pos & (nslots - 1)) * VTRACE_RECORD_SIZE);
}
inline vtrace_guest_probe* guest_table(void* base, const GuestLayout& l) {
  return reinterpret_cast<vtrace_guest_probe*>(static_cast<char*>(base) + l.table_offset);
}
inline volatile uint8_t* guest_enabled(void* base, const GuestLayout& l) {
  return static_cast<volatile uint8_t*>(base) + l.enable_offset;
}
inline vtrace_guest_exec* guest_exec(void* base, const GuestLayout& l) {
  return reinterpret_cast<vtrace_guest_exec*>(static_cast<char*>(base) + l.exec_offset);
}

}  // namespace vtrace::transport
