#include "engine/speculation.h"

namespace vtrace::engine {

int64_t Speculations::allocate() {
  for (size_t i = 0; i < bufs_.size(); ++i) {
    if (!bufs_[i].active) {
      bufs_[i].active = true;
      bufs_[i].firings.clear();
      bufs_[i].bytes = 0;
      return static_cast<int64_t>(i + 1);
    }
  }
  ++unavailable_;
  return 0;
}

bool Speculations::append(int64_t id, Firing&& f) {
  Buffer& b = bufs_[id - 1];
  const uint64_t bytes = f.buffer_bytes(strsize_);
  if (b.bytes + bytes > size_) {
    ++drops_;
    return false;
  }
  b.bytes += bytes;
  b.firings.push_back(std::move(f));
  return true;
}

std::vector<Firing> Speculations::commit(int64_t id) {
  Buffer& b = bufs_[id - 1];
  b.active = false;
  b.bytes = 0;
  return std::move(b.firings);
}

void Speculations::discard(int64_t id) {
  Buffer& b = bufs_[id - 1];
  b.active = false;
  b.firings.clear();
  b.bytes = 0;
}

}  // namespace vtrace::engine
