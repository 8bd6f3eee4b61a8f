// The maps gather programs write to: one BPF ring buffer that every probe's program shares (one
// timeline, records in reservation order) and a per-CPU counter of the records a full ring
// refused. Reading never blocks; wait on epoll_fd() for records.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sys/unique_fd.h"

struct ring_buffer;

namespace vtrace::bpf {

// The ring's size for a bufsize option: a power of two of at least a page (the kernel's rule).
size_t ring_size_for(size_t bufsize);

class GatherRing {
 public:
  using RecordFn = std::function<void(const uint8_t* bytes, size_t len)>;

  // Creates the ring (ring_size_for(bufsize) bytes) and the drop counter. Nothing, with err set,
  // when the kernel refuses them.
  static std::unique_ptr<GatherRing> create(size_t bufsize, std::string& err);
  ~GatherRing();
  GatherRing(const GatherRing&) = delete;
  GatherRing& operator=(const GatherRing&) = delete;

  int ring_fd() const { return ring_.get(); }    // BPF_MAP_TYPE_RINGBUF
  int drops_fd() const { return drops_.get(); }  // BPF_MAP_TYPE_PERCPU_ARRAY, key 0: u64
  size_t size() const { return size_; }
  // Readable when records wait (the kernel wakes it on each submit).
  int epoll_fd() const;

  // Calls fn on every record waiting now, in ring order; never blocks. Returns the number of
  // records, or -1 with err set.
  long consume(const RecordFn& fn, std::string& err);

  // Records refused because the ring was full, per CPU (index: CPU number). Empty, with err set,
  // when the counter cannot be read.
  std::vector<uint64_t> drops(std::string& err) const;

 private:
  GatherRing() = default;
  static int on_record(void* ctx, void* data, size_t len);

  sys::UniqueFd ring_, drops_;
  size_t size_ = 0;
  ring_buffer* rb_ = nullptr;
  const RecordFn* fn_ = nullptr;  // the callback of the consume() in progress
};

}  // namespace vtrace::bpf
