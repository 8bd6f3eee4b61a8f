// Speculative tracing: nspec buffers of specsize bytes. speculation() takes a free buffer,
// speculate(id) sends a clause's firing (its typed output, consumer.h) into it, commit(id)
// releases the firings to the consumer and discard(id) drops them.
#pragma once
#include <cstdint>
#include <string>

#include <vector>
#include "engine/consumer.h"

namespace vtrace::engine {

class Speculations {
 public:
  // `strsize`: what a string takes in a buffer (Firing::buffer_bytes).
  void configure(uint32_t count, uint64_t size_bytes, uint64_t strsize) {
    bufs_.clear();
    bufs_.resize(count);
    size_ = size_bytes;
    strsize_ = strsize;
  }
  // A free buffer's id (1-based), or 0 when all are in use (counted as unavailable).
  int64_t allocate();
  // An ID dtrace accepts: 1..nspec. Only an ID outside that range is a fault; an inactive buffer
  // (already committed or discarded) makes commit/discard a no-op and speculate drop its data.
  bool valid(int64_t id) const { return id >= 1 && id <= int64_t(bufs_.size()); }
  bool active(int64_t id) const { return valid(id) && bufs_[id - 1].active; }
  // Appends a firing (its strings owned: Firing::own()); false (and a drop is counted) when the
  // buffer would exceed specsize.
  bool append(int64_t id, Firing&& f);
  // Frees the buffer and returns what it held.
  std::vector<Firing> commit(int64_t id);
  void discard(int64_t id);

  uint64_t unavailable() const { return unavailable_; }
  uint64_t drops() const { return drops_; }
  void count_drop() { ++drops_; }

 private:
  struct Buffer {
    bool active = false;
    std::vector<Firing> firings;
    uint64_t bytes = 0;
  };
  std::vector<Buffer> bufs_;
  uint64_t size_ = 0;
  uint64_t strsize_ = 0;
  uint64_t unavailable_ = 0;
  uint64_t drops_ = 0;
};

}  // namespace vtrace::engine
