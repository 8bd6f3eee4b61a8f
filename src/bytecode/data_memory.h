// The memory D pointers can reach, in three regions at fixed bases no process maps as such:
// scratch (what alloca() and copyin() hand out while a clause runs; reset before each clause, as
// DTrace's scratch space is), global variables of array, struct or union type (the program's
// lifetime) and this-> variables of those types (one probe firing). A D program can compare,
// offset and print these addresses; every load and store is checked against what exists, so no
// address a program computes reaches anything else.
#pragma once
#include <cstdint>
#include <cstring>
#include <vector>

namespace vtrace::bytecode {

class DataMemory {
 public:
  static constexpr uint64_t kScratchBase = 0x00007d0000000000ull;
  static constexpr uint64_t kGlobalBase = 0x00007c0000000000ull;
  static constexpr uint64_t kLocalBase = 0x00007b0000000000ull;

  explicit DataMemory(size_t scratch_bytes, size_t global_bytes = 0, size_t local_bytes = 0)
      : scratch_(scratch_bytes), globals_(global_bytes), locals_(local_bytes) {}
  size_t scratch_capacity() const { return scratch_.size(); }

  // Zeroes what the last clause used: a clause never sees another's data.
  void reset_scratch() {
    std::memset(scratch_.data(), 0, used_);
    used_ = 0;
  }
  // this-> variables start each probe firing zeroed.
  void reset_locals() { std::fill(locals_.begin(), locals_.end(), 0); }

  // n bytes of scratch, 8-aligned; false when the scratch space is exhausted.
  bool alloc(uint64_t n, uint64_t& addr) {
    const uint64_t start = (used_ + 7) & ~uint64_t{7};
    if (start > scratch_.size() || n > scratch_.size() - start) return false;
    addr = kScratchBase + start;
    used_ = start + n;
    return true;
  }

  // The bytes that exist from addr on (0 when addr is in no region).
  uint64_t span(uint64_t addr) const {
    if (addr >= kScratchBase) return tail(addr - kScratchBase, used_);
    if (addr >= kGlobalBase) return tail(addr - kGlobalBase, globals_.size());
    if (addr >= kLocalBase) return tail(addr - kLocalBase, locals_.size());
    return 0;
  }
  // [addr, addr + n) when it lies in one region, else nullptr.
  uint8_t* at(uint64_t addr, uint64_t n) {
    if (span(addr) < n || (n == 0 && !contains(addr))) return nullptr;
    if (addr >= kScratchBase) return scratch_.data() + (addr - kScratchBase);
    if (addr >= kGlobalBase) return globals_.data() + (addr - kGlobalBase);
    return locals_.data() + (addr - kLocalBase);
  }

 private:
  static uint64_t tail(uint64_t off, uint64_t size) { return off < size ? size - off : 0; }
  // An empty range is valid at a region's end (alloca(0) hands out its top).
  bool contains(uint64_t addr) const {
    if (addr >= kScratchBase) return addr - kScratchBase <= used_;
    if (addr >= kGlobalBase) return addr - kGlobalBase <= globals_.size();
    return addr >= kLocalBase && addr - kLocalBase <= locals_.size();
  }

  std::vector<uint8_t> scratch_, globals_, locals_;
  size_t used_ = 0;
};

}  // namespace vtrace::bytecode
