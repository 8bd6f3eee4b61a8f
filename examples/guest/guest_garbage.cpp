// guest_garbage: plays a hostile guest. It maps the vtrace channel itself (BAR2 of the ivshmem
// device at PCI 0000:00:04.0, or the file $VTRACE_CHANNEL names on the host) while the real
// vtrace-agent also runs, and writes what a malicious or broken guest could: records with
// impossible fields into the rings and a lying probe table. The host must count and report each
// of them, never crash, and keep other guests' data complete.
//
//   guest_garbage [--kinds LIST] [--count N] [--ring native|kernel|both]
//
// LIST (comma-separated, default all):
//   probe-id   records naming probes beyond probe_count (and 0xffffffff)
//   nargs      records with nargs 11..255
//   tail-len   records with tail_len 249..
//   tail-nul   records whose string has no NUL within tail_len
//   seq        records whose seq is not their ring position
//   head       moves the ring head far ahead of the tail (once per ring, after the records)
//   table      a probe table entry with unterminated strings and nargs 200, then
//              probe_count = 1000000
//   counters   drop and unsynchronised counts no guest could reach (each chosen ring's drops,
//              the header's unsynced)
// N records of each record kind go into each chosen ring (default 100).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>
#include <string>

#include "pci_bar.h"
#include "vtrace/guest_abi.h"

using namespace vtrace_guest;

namespace {

const std::set<std::string> kAllKinds = {"probe-id", "nargs", "tail-len", "tail-nul",
                                         "seq",      "head",  "table",    "counters"};
constexpr uint64_t kImpossibleCount = 1967016172124798215ull;

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "guest_garbage: %s\nusage: guest_garbage [--kinds LIST] [--count N] "
               "[--ring native|kernel|both]\n  kinds: probe-id,nargs,tail-len,tail-nul,seq,head,"
               "table,counters (default: all)\n",
               why);
  std::exit(2);
}

struct Channel {
  char* base;
  const vtrace_guest_header* h;
};

vtrace_ring* ring_at(const Channel& c, uint32_t i) {
  return reinterpret_cast<vtrace_ring*>(c.base + c.h->ring_offset + uint64_t{i} * c.h->ring_stride);
}

vtrace_guest_record* slot_at(const Channel& c, vtrace_ring* r, uint64_t pos) {
  return reinterpret_cast<vtrace_guest_record*>(reinterpret_cast<char*>(r) + sizeof(vtrace_ring) +
                                                (pos & (c.h->nslots - 1)) * VTRACE_RECORD_SIZE);
}

// Publishes one record at the ring's head, made valid first and then spoiled by `spoil`.
template <typename F>
void publish(const Channel& c, vtrace_ring* r, F spoil) {
  const uint64_t pos = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
  vtrace_guest_record* rec = slot_at(c, r, pos);
  std::memset(rec, 0, sizeof *rec);
  rec->probe = 0;
  rec->pid = static_cast<uint32_t>(getpid());
  rec->tid = rec->pid;
  rec->nargs = 1;
  rec->seq = pos;
  std::strcpy(rec->comm, "guest_garbage");
  spoil(*rec);
  __atomic_store_n(&r->head, pos + 1, __ATOMIC_RELEASE);
}

void spoil_records(const Channel& c, vtrace_ring* r, const std::string& kind, uint32_t count) {
  for (uint32_t k = 0; k < count; ++k) {
    publish(c, r, [&](vtrace_guest_record& rec) {
      if (kind == "probe-id")
        rec.probe = k == 0 ? 0xffffffffu : c.h->probe_count + c.h->max_probes + k;
      else if (kind == "nargs")
        rec.nargs = static_cast<uint16_t>(VTRACE_MAX_ARGS + 1 + k % 245);
      else if (kind == "tail-len")
        rec.tail_len = static_cast<uint16_t>(VTRACE_GUEST_TAIL_SIZE + 1 + k);
      else if (kind == "tail-nul") {
        std::memset(rec.tail, 'A', sizeof rec.tail);
        rec.tail_len = static_cast<uint16_t>(k % 2 ? VTRACE_GUEST_TAIL_SIZE : 10);
      } else if (kind == "seq")
        rec.seq += 12345 + k;
    });
  }
}

void lie_in_table(const Channel& c) {
  auto* h = const_cast<vtrace_guest_header*>(c.h);
  const uint32_t i = h->probe_count < h->max_probes ? h->probe_count : h->max_probes - 1;
  auto* e = reinterpret_cast<vtrace_guest_probe*>(c.base + h->table_offset) + i;
  e->kind = VTRACE_GPROBE_NATIVE;
  e->pid = getpid();
  e->nargs = 200;
  e->flags = 0xffff;
  std::memset(e->provider, 'p', sizeof e->provider);
  std::memset(e->module, 'm', sizeof e->module);
  std::memset(e->function, 'f', sizeof e->function);
  std::memset(e->name, 'n', sizeof e->name);
  __atomic_store_n(&h->probe_count, 1000000u, __ATOMIC_RELEASE);
  __atomic_add_fetch(&h->table_gen, 1u, __ATOMIC_RELEASE);
}

}  // namespace

int main(int argc, char** argv) {
  std::set<std::string> kinds = kAllKinds;
  uint32_t count = 100;
  std::string ring = "both";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage(("bad argument: " + a).c_str());
    std::string v = argv[++i];
    if (a == "--kinds") {
      kinds.clear();
      std::istringstream in(v);
      for (std::string k; std::getline(in, k, ',');) {
        if (k == "all") {
          kinds = kAllKinds;
        } else if (kAllKinds.count(k)) {
          kinds.insert(k);
        } else {
          usage(("unknown kind: " + k).c_str());
        }
      }
    } else if (a == "--count") {
      char* end = nullptr;
      count = static_cast<uint32_t>(std::strtoul(v.c_str(), &end, 10));
      if (*end != '\0' || count == 0 || count > 1000000) usage("bad --count");
    } else if (a == "--ring") {
      if (v != "native" && v != "kernel" && v != "both") usage("bad --ring");
      ring = v;
    } else {
      usage(("unknown option: " + a).c_str());
    }
  }

  const char* file = std::getenv("VTRACE_CHANNEL");
  Region reg = file && *file ? map_file(file, 0) : map_ivshmem_bar("0000:00:04.0", 2);
  if (!reg.base) {
    std::fprintf(stderr, "guest_garbage: %s\n", reg.error.c_str());
    return 1;
  }
  Channel c{static_cast<char*>(reg.base), static_cast<const vtrace_guest_header*>(reg.base)};
  // Our own guest's header: checked only so this program does not crash itself.
  if (reg.size < 4096 || c.h->magic != VTRACE_GUEST_MAGIC || c.h->total_size > reg.size ||
      c.h->nslots == 0 || (c.h->nslots & (c.h->nslots - 1)) != 0 ||
      c.h->nrings != VTRACE_GUEST_NRINGS ||
      c.h->ring_offset + c.h->ring_stride * c.h->nrings > reg.size ||
      c.h->table_offset + uint64_t{c.h->max_probes} * sizeof(vtrace_guest_probe) > reg.size) {
    std::fprintf(stderr, "guest_garbage: the channel has no usable vtrace layout\n");
    return 1;
  }

  uint64_t records = 0;
  for (uint32_t i = 0; i < VTRACE_GUEST_NRINGS; ++i) {
    if (ring == "native" && i != VTRACE_GUEST_RING_NATIVE) continue;
    if (ring == "kernel" && i != VTRACE_GUEST_RING_KERNEL) continue;
    vtrace_ring* r = ring_at(c, i);
    for (const char* kind : {"probe-id", "nargs", "tail-len", "tail-nul", "seq"})
      if (kinds.count(kind)) {
        spoil_records(c, r, kind, count);
        records += count;
      }
    if (kinds.count("head"))
      __atomic_store_n(&r->head, r->tail + uint64_t{c.h->nslots} * 1000 + 7, __ATOMIC_RELEASE);
    if (kinds.count("counters")) __atomic_store_n(&r->drops, kImpossibleCount, __ATOMIC_RELAXED);
  }
  if (kinds.count("counters")) {
    auto* h = const_cast<vtrace_guest_header*>(c.h);
    __atomic_store_n(&h->unsynced, 3000000000u, __ATOMIC_RELAXED);
  }
  if (kinds.count("table")) lie_in_table(c);
  std::string list;
  for (const auto& k : kinds) list += (list.empty() ? "" : ",") + k;
  std::printf("guest_garbage: %llu bad records, kinds %s, ring %s\n",
              static_cast<unsigned long long>(records), list.c_str(), ring.c_str());
  return 0;
}
