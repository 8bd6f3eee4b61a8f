#include "engine/speculation.h"

namespace vtrace::engine {

int64_t Speculations::allocate() {
  for (size_t i = 0; i < bufs_.size(); ++i) {
    if (!bufs_[i].active) {
      bufs_[i].active = true;
      bufs_[i].data.clear();
      return static_cast<int64_t>(i + 1);
    }
  }
  ++unavailable_;
  return 0;
}

bool Speculations::append(int64_t id, const std::string& data) {
  Buffer& b = bufs_[id - 1];
  if (b.data.size() + data.size() > size_) {
    ++drops_;
    return false;
  }
  b.data += data;
  return true;
}

std::string Speculations::commit(int64_t id) {
  Buffer& b = bufs_[id - 1];
  b.active = false;
  return std::move(b.data);
}

void Speculations::discard(int64_t id) {
  Buffer& b = bufs_[id - 1];
  b.active = false;
  b.data.clear();
}

}  // namespace vtrace::engine
