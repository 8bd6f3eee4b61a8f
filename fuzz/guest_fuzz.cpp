// libFuzzer target: arbitrary bytes as what a guest writes into its channel (guest_abi.h).
//
// The first byte picks the use of the rest:
//   even: a GuestTarget opens a freshly formatted channel (a private file in a temporary
//         directory, the smallest layout transport::guest_layout accepts: 16 slots per ring), reads
//         the probe table the input wrote (refresh_table), attaches, and polls the rings the input
//         wrote, then the table grows and the rings move on (or go backwards) and it reads again.
//         Input after the selector:
//           32 bytes of control: u32 count1, u32 count2 (probe_count before the first and the
//             second table read), u64 head0, u64 head1 (ring heads), u32 watermark (guest TSC),
//             u8 ntable (table entries taken from the input, <= 16), u8 flags (bit 0: sync
//             mode; bits 1-3: poll batch), u8 push0, u8 push1 (how far the heads move before
//             the second round; >= 0x80: backwards), then
//           ntable x 256 bytes of probe table entries (struct vtrace_guest_probe), then
//           ring slots: 16 x 384 bytes of ring 0, then 16 x 384 of ring 1 (what is given).
//   odd:  the channel header's layout fields (guest-writable memory: GuestTarget::open and
//         `vm exec` check them before use): the bytes overwrite the start of a formatted header
//         and transport::read_guest_layout checks them against a mapped size taken from the
//         input too.
//
// Invariants: no crash, hang or sanitizer report; a table entry becomes a probe only with valid
// fields (GuestTarget's ids are catalog probes of this VM, at most one per entry read); a record
// reaches the merge only with a known probe, its frame checks passed (nargs, string tail
// NUL-terminated within tail_len, a string probe has a string; stack frames only on a probe
// that has them, within the tail), a printable execname, and a ring position the guest had
// published; an accepted layout lies inside the mapping with its areas
// in order and not overlapping.
//
// Seeds: fuzz/corpus/guest/ (fuzz/make_seeds.py). Run: see fuzz/CMakeLists.txt.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "engine/catalog.h"
#include "fuzz_check.h"
#include "targets/qemu/guest_target.h"
#include "transport/guest_channel.h"

namespace {

namespace qemu = vtrace::targets::qemu;
namespace transport = vtrace::transport;

constexpr uint32_t kTableFromInput = 16;

// GuestTarget warns on stderr once per guest whose table is corrupt: once per run here. The
// fuzzer closes stderr (-close_fd_mask=2, added in LLVMFuzzerInitialize; libFuzzer and the
// sanitizers keep writing to a copy), and invariant failures go to a copy of our own.
int g_report_fd = 2;

// The smallest channel guest_layout() accepts: the fixed areas, then two rings of 16 slots.
uint64_t channel_size() {
  const transport::GuestLayout big = transport::guest_layout(16ull << 20);
  return big.ring_offset + 2 * 8192ull;  // 16 slots of 384 bytes and the ring header: 8 KiB
}

struct Channel {
  int fd = -1;
  std::string path;
  uint64_t size = 0;
  transport::GuestLayout layout;
  Channel() {
    size = channel_size();
    layout = transport::guest_layout(size);
    CHECK(layout.total_size == size && layout.nslots == 16);
    // GuestTarget::open takes only a private file of ours, by a path that is no symlink.
    char dir_template[] = "/dev/shm/vtrace-guest-fuzz.XXXXXX";
    CHECK(mkdtemp(dir_template) != nullptr);
    dir = dir_template;
    path = dir + "/channel";
    fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
  }
  ~Channel() {
    unlink(path.c_str());
    rmdir(dir.c_str());
  }
  std::string dir;
};

Channel& channel() {
  static Channel c;
  return c;
}

std::FILE* devnull() {
  static std::FILE* f = std::fopen("/dev/null", "w");
  return f;
}

struct Control {
  uint32_t count1 = 0, count2 = 0;
  uint64_t head0 = 0, head1 = 0;
  uint32_t watermark = 0;
  uint8_t ntable = 0, flags = 0, push0 = 0, push1 = 0;
};
static_assert(sizeof(Control) == 32);

void check_record(const qemu::GuestTarget& g, const qemu::GuestPending& p,
                  const uint64_t published[2]) {
  const auto& ids = g.probe_ids();
  CHECK(std::find(ids.begin(), ids.end(), p.rec.probe) != ids.end());
  CHECK(p.rec.target == g.index() && p.rec.guest);
  CHECK(p.ring < VTRACE_GUEST_NRINGS);
  CHECK(p.pos < published[p.ring]);
  CHECK(p.rec.tail_len <= VTRACE_GUEST_TAIL_SIZE);
  if (p.rec.tail_len > 0) CHECK(std::memchr(p.tail, '\0', p.rec.tail_len) != nullptr);
  const void* nul = std::memchr(p.rec.execname, '\0', sizeof p.rec.execname);
  CHECK(nul != nullptr);
  for (const char* c = p.rec.execname; c != nul; ++c) CHECK(*c >= 0x20 && *c < 0x7f);
  // Stack frames only on a probe whose records carry them, within the tail.
  if (!p.stacks) CHECK(p.kframes == 0 && p.uframes == 0);
  CHECK(size_t{p.kframes} + p.uframes <= VTRACE_GUEST_MAX_FRAMES);
}

void fuzz_target(const uint8_t* data, size_t size) {
  Channel& ch = channel();
  // A fresh, zeroed channel each run.
  CHECK(ftruncate(ch.fd, 0) == 0 && ftruncate(ch.fd, static_cast<off_t>(ch.size)) == 0);
  void* base = mmap(nullptr, ch.size, PROT_READ | PROT_WRITE, MAP_SHARED, ch.fd, 0);
  CHECK(base != MAP_FAILED);
  transport::init_guest_channel(base, ch.layout);
  auto* h = static_cast<vtrace_guest_header*>(base);

  Control c;
  std::memcpy(&c, data, std::min(size, sizeof c));
  const size_t ctl = std::min(size, sizeof c);
  data += ctl;
  size -= ctl;
  const uint32_t ntable = std::min<uint32_t>(c.ntable, kTableFromInput);
  const size_t table_bytes = std::min<size_t>(size, ntable * sizeof(vtrace_guest_probe));
  std::memcpy(transport::guest_table(base, ch.layout), data, table_bytes);
  data += table_bytes;
  size -= table_bytes;

  h->agent_ready = 1;
  h->probe_count = c.count1;
  h->table_gen = 1;

  vtrace::engine::Catalog catalog;
  qemu::GuestTarget g("fz", qemu::GuestTargets::kFirstIndex);
  std::string err;
  if (!g.open(ch.path, 0, 0, err)) {
    dprintf(g_report_fd, "guest_fuzz: open: %s\n", err.c_str());
    std::abort();
  }
  const uint32_t first = catalog.next_id();
  size_t added = g.refresh_table(catalog);
  CHECK(added == g.probe_ids().size());
  CHECK(added <= std::min(c.count1, ch.layout.max_probes));
  for (uint32_t id : g.probe_ids()) {
    CHECK(id >= first && catalog.valid(id));
    CHECK(catalog.probe(id).target == "fz");
  }

  const bool sync = (c.flags & 1) != 0;
  const size_t batch = 1 + ((c.flags >> 1) & 7);
  g.attach(sync);
  std::vector<uint32_t> on = g.probe_ids();
  std::sort(on.begin(), on.end());
  g.enable(on);

  // The rings' slots and heads, as the guest wrote them (attach() reset the heads).
  const size_t ring_bytes = ch.layout.nslots * size_t{VTRACE_RECORD_SIZE};
  uint64_t published[2] = {c.head0, c.head1};
  for (uint32_t r = 0; r < VTRACE_GUEST_NRINGS; ++r) {
    vtrace_ring* ring = transport::guest_ring(base, ch.layout, r);
    const size_t n = std::min(size, ring_bytes);
    std::memcpy(reinterpret_cast<char*>(ring) + sizeof(vtrace_ring), data, n);
    data += n;
    size -= n;
    __atomic_store_n(&ring->head, published[r], __ATOMIC_RELEASE);
  }
  h->watermark = c.watermark;

  std::vector<qemu::GuestPending> out;
  auto poll_rounds = [&](int rounds) {
    for (int i = 0; i < rounds; ++i) {
      out.clear();
      const size_t n = g.poll(out, batch);
      CHECK(out.size() <= n && n <= batch * VTRACE_GUEST_NRINGS);
      for (const auto& p : out) {
        check_record(g, p, published);
        g.mark_done(p.ring, p.pos);
      }
      (void)g.watermark_ns();
    }
  };
  poll_rounds(3);

  // The agent adds entries (or claims to) and the rings move on, or back.
  const size_t before = g.probe_ids().size();
  h->probe_count = c.count2;
  h->table_gen = 2;
  added = g.refresh_table(catalog);
  CHECK(g.probe_ids().size() == before + added);
  CHECK(g.probe_ids().size() <= ch.layout.max_probes);
  on = g.probe_ids();
  std::sort(on.begin(), on.end());
  g.enable(on);
  auto push = [](uint64_t head, uint8_t by) {
    return by >= 0x80 ? head - (by - 0x80u) : head + by;
  };
  published[0] = push(published[0], c.push0);
  published[1] = push(published[1], c.push1);
  for (uint32_t r = 0; r < VTRACE_GUEST_NRINGS; ++r)
    __atomic_store_n(&transport::guest_ring(base, ch.layout, r)->head, published[r],
                     __ATOMIC_RELEASE);
  poll_rounds(3);

  (void)g.check_alive(0);
  g.report(devnull());
  g.detach();
  munmap(base, ch.size);
}

void fuzz_header(const uint8_t* data, size_t size) {
  // The layout fields, then a u64 the mapped size is taken from.
  constexpr size_t kFields = offsetof(vtrace_guest_header, pad0);
  const transport::GuestLayout l = transport::guest_layout(16ull << 20);
  std::vector<uint64_t> mem(4096 / 8, 0);
  transport::init_guest_channel(mem.data(), l);
  std::memcpy(mem.data(), data, std::min(size, kFields));
  uint64_t mapped = l.total_size;
  if (size > kFields) std::memcpy(&mapped, data + kFields, std::min<size_t>(size - kFields, 8));
  transport::GuestLayout out;
  const std::string bad =
      transport::read_guest_layout(reinterpret_cast<vtrace_guest_header*>(mem.data()), mapped, out);
  if (!bad.empty()) return;
  auto inside = [&](uint64_t off, uint64_t len) {
    return off >= 4096 && off <= out.total_size && len <= out.total_size - off;
  };
  CHECK(out.total_size <= mapped);
  CHECK(inside(out.exec_offset, out.exec_size));
  CHECK(out.exec_size >= sizeof(vtrace_guest_exec));
  CHECK(out.max_probes > 0 && inside(out.table_offset, uint64_t{out.max_probes} * 256));
  CHECK(inside(out.enable_offset, out.max_probes));
  CHECK(out.nrings == VTRACE_GUEST_NRINGS && out.nslots >= 16 &&
        (out.nslots & (out.nslots - 1)) == 0);
  CHECK(out.ring_stride >= sizeof(vtrace_ring) + uint64_t{out.nslots} * VTRACE_RECORD_SIZE);
  CHECK(inside(out.ring_offset, out.ring_stride * out.nrings));
  CHECK(out.exec_offset + uint64_t{out.exec_size} <= out.table_offset);
  CHECK(out.table_offset + uint64_t{out.max_probes} * 256 <= out.enable_offset);
  CHECK(out.enable_offset + uint64_t{out.max_probes} <= out.ring_offset);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  g_report_fd = dup(2);
  static std::vector<char*> args(*argv, *argv + *argc);
  static char close_stderr[] = "-close_fd_mask=2";
  args.insert(args.begin() + 1, close_stderr);
  args.push_back(nullptr);
  *argc += 1;
  *argv = args.data();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if ((data[0] & 1) == 0)
    fuzz_target(data + 1, size - 1);
  else
    fuzz_header(data + 1, size - 1);
  return 0;
}
