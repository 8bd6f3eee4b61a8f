// The memory D pointers can reach: what alloca() and copyin() hand out while a clause runs.
// Pointers into it are addresses above a fixed base that no process maps as such, so a D program
// can compare, offset and print them; every load and store is checked against what was handed
// out, so no address a program computes can reach anything else. Reset before each clause, as
// DTrace's scratch space is.
#pragma once
#include <cstdint>
#include <cstring>
#include <vector>

namespace vtrace::bytecode {

class ScratchMemory {
 public:
  static constexpr uint64_t kBase = 0x00007d0000000000ull;

  explicit ScratchMemory(size_t bytes) : buf_(bytes) {}
  size_t capacity() const { return buf_.size(); }

  // Zeroes what the last clause used: a clause never sees another's data.
  void reset() {
    std::memset(buf_.data(), 0, used_);
    used_ = 0;
  }
  // n bytes, 8-aligned; false when the scratch space is exhausted.
  bool alloc(uint64_t n, uint64_t& addr) {
    const uint64_t start = (used_ + 7) & ~uint64_t{7};
    if (start > buf_.size() || n > buf_.size() - start) return false;
    addr = kBase + start;
    used_ = start + n;
    return true;
  }
  // The bytes handed out from addr on (0 when addr is not in them).
  uint64_t span(uint64_t addr) const {
    if (addr < kBase || addr - kBase >= used_) return 0;
    return used_ - (addr - kBase);
  }
  // [addr, addr + n) when it lies in what was handed out, else nullptr.
  uint8_t* at(uint64_t addr, uint64_t n) {
    if (addr < kBase) return nullptr;
    const uint64_t off = addr - kBase;
    if (off > used_ || n > used_ - off) return nullptr;
    return buf_.data() + off;
  }

 private:
  std::vector<uint8_t> buf_;
  size_t used_ = 0;
};

}  // namespace vtrace::bytecode
