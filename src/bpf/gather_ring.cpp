#include "bpf/gather_ring.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bpf/program.h"

namespace vtrace::bpf {

size_t ring_size_for(size_t bufsize) {
  size_t n = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  while (n < bufsize && n < (size_t{1} << 62)) n <<= 1;
  return n;
}

std::unique_ptr<GatherRing> GatherRing::create(size_t bufsize, std::string& err) {
  std::unique_ptr<GatherRing> r(new GatherRing);
  r->size_ = ring_size_for(bufsize);
  if (r->size_ > 0xffffffffu) {
    err = "bufsize " + std::to_string(bufsize) + " is too big for a BPF ring (at most 2 GiB)";
    return nullptr;
  }
  r->ring_ = create_map(BPF_MAP_TYPE_RINGBUF, "vtrace_ring", 0, 0, static_cast<uint32_t>(r->size_),
                        "the BPF ring buffer", err);
  if (!r->ring_.valid()) return nullptr;
  r->drops_ = create_map(BPF_MAP_TYPE_PERCPU_ARRAY, "vtrace_drops", sizeof(uint32_t),
                         sizeof(uint64_t), 1, "the BPF drop counter", err);
  if (!r->drops_.valid()) return nullptr;
  r->rb_ = ring_buffer__new(r->ring_.get(), &GatherRing::on_record, r.get(), nullptr);
  if (!r->rb_) {
    err = std::string("mapping the BPF ring buffer: ") + strerror(errno);
    return nullptr;
  }
  return r;
}

GatherRing::~GatherRing() {
  if (rb_) ring_buffer__free(rb_);
}

int GatherRing::epoll_fd() const {
  return ring_buffer__epoll_fd(rb_);
}

int GatherRing::on_record(void* ctx, void* data, size_t len) {
  auto* self = static_cast<GatherRing*>(ctx);
  (*self->fn_)(static_cast<const uint8_t*>(data), len);
  return 0;
}

long GatherRing::consume(const RecordFn& fn, std::string& err) {
  fn_ = &fn;
  int n = ring_buffer__consume(rb_);
  fn_ = nullptr;
  if (n < 0) {
    err = std::string("reading the BPF ring buffer: ") + strerror(-n);
    return -1;
  }
  return n;
}

std::vector<uint64_t> GatherRing::drops(std::string& err) const {
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) {
    err = std::string("counting the possible CPUs: ") + strerror(-cpus);
    return {};
  }
  // A per-CPU lookup returns one value per possible CPU, each padded to 8 bytes.
  std::vector<uint64_t> v(static_cast<size_t>(cpus));
  uint32_t key = 0;
  if (bpf_map_lookup_elem(drops_.get(), &key, v.data()) != 0) {
    err = std::string("reading the BPF drop counter: ") + strerror(errno);
    return {};
  }
  return v;
}

}  // namespace vtrace::bpf
