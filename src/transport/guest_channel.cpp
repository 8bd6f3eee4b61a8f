#include "transport/guest_channel.h"

#include <cstddef>
#include <cstring>

namespace vtrace::transport {

static_assert(sizeof(vtrace_guest_record) == VTRACE_RECORD_SIZE);
static_assert(sizeof(vtrace_guest_probe) == 256);
static_assert(sizeof(vtrace_guest_header) <= 4096);
static_assert(sizeof(vtrace_ring) == 192);

namespace {

constexpr uint64_t kPage = 4096;
constexpr uint32_t kExecSize = 128 * 1024;
constexpr uint32_t kMaxProbes = 4096;

uint64_t round_up(uint64_t v, uint64_t to) {
  return (v + to - 1) / to * to;
}

}  // namespace

GuestLayout guest_layout(uint64_t total_size) {
  GuestLayout l;
  l.exec_offset = kPage;
  l.exec_size = kExecSize;
  l.table_offset = l.exec_offset + l.exec_size;
  l.max_probes = kMaxProbes;
  l.enable_offset = l.table_offset + l.max_probes * sizeof(vtrace_guest_probe);
  l.ring_offset = static_cast<uint32_t>(round_up(l.enable_offset + l.max_probes, kPage));
  l.nrings = VTRACE_GUEST_NRINGS;
  if (total_size <= l.ring_offset) return {};
  const uint64_t per_ring = (total_size - l.ring_offset) / l.nrings;
  uint64_t slots = 1;
  while (sizeof(vtrace_ring) + slots * 2 * VTRACE_RECORD_SIZE <= per_ring && slots < (1u << 20))
    slots *= 2;
  if (slots < 16) return {};
  l.nslots = static_cast<uint32_t>(slots);
  l.ring_stride = round_up(sizeof(vtrace_ring) + slots * VTRACE_RECORD_SIZE, kPage);
  if (l.ring_offset + l.ring_stride * l.nrings > total_size) return {};
  l.total_size = total_size;
  return l;
}

void init_guest_channel(void* mem, const GuestLayout& l) {
  auto* h = static_cast<vtrace_guest_header*>(mem);
  std::memset(mem, 0, kPage);
  h->magic = VTRACE_GUEST_MAGIC;
  h->version = VTRACE_GUEST_VERSION;
  h->record_size = VTRACE_RECORD_SIZE;
  h->total_size = l.total_size;
  h->exec_offset = l.exec_offset;
  h->exec_size = l.exec_size;
  h->table_offset = l.table_offset;
  h->max_probes = l.max_probes;
  h->enable_offset = l.enable_offset;
  h->nrings = l.nrings;
  h->ring_offset = l.ring_offset;
  h->nslots = l.nslots;
  h->ring_stride = l.ring_stride;
}

std::string read_guest_layout(const vtrace_guest_header* h, uint64_t mapped_size,
                              GuestLayout& out) {
  if (mapped_size < kPage) return "the channel is smaller than its header";
  if (h->magic != VTRACE_GUEST_MAGIC) return "no vtrace guest channel (bad magic)";
  if (h->version != VTRACE_GUEST_VERSION)
    return "guest channel version " + std::to_string(h->version) + ", expected " +
           std::to_string(VTRACE_GUEST_VERSION);
  if (h->record_size != VTRACE_RECORD_SIZE) return "bad record size";
  GuestLayout l;
  l.total_size = h->total_size;
  l.exec_offset = h->exec_offset;
  l.exec_size = h->exec_size;
  l.table_offset = h->table_offset;
  l.max_probes = h->max_probes;
  l.enable_offset = h->enable_offset;
  l.nrings = h->nrings;
  l.ring_offset = h->ring_offset;
  l.nslots = h->nslots;
  l.ring_stride = h->ring_stride;
  auto inside = [&](uint64_t off, uint64_t len) {
    return off >= kPage && off <= l.total_size && len <= l.total_size - off;
  };
  if (l.total_size > mapped_size) return "the channel is larger than its mapping";
  if (l.exec_size < sizeof(vtrace_guest_exec) + 256 || !inside(l.exec_offset, l.exec_size))
    return "bad exec area";
  if (l.max_probes == 0 || l.max_probes > (1u << 20) ||
      !inside(l.table_offset, uint64_t{l.max_probes} * sizeof(vtrace_guest_probe)))
    return "bad probe table";
  if (!inside(l.enable_offset, l.max_probes)) return "bad enable area";
  if (l.nrings != VTRACE_GUEST_NRINGS || l.nslots < 16 || (l.nslots & (l.nslots - 1)) != 0 ||
      l.ring_stride < sizeof(vtrace_ring) + uint64_t{l.nslots} * VTRACE_RECORD_SIZE ||
      l.ring_stride > l.total_size || !inside(l.ring_offset, l.ring_stride * l.nrings))
    return "bad rings";
  const uint64_t table_end = l.table_offset + uint64_t{l.max_probes} * sizeof(vtrace_guest_probe);
  if (l.exec_offset + uint64_t{l.exec_size} > l.table_offset || table_end > l.enable_offset ||
      l.enable_offset + uint64_t{l.max_probes} > l.ring_offset)
    return "overlapping areas";
  out = l;
  return "";
}

}  // namespace vtrace::transport
