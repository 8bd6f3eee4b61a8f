// Reading a gather record (gather_record.h) that came out of the BPF ring: every length in it is
// checked against the plan and the record's size before anything is trusted, so a malformed
// record (a kernel or program bug, or a guest's forged record) is refused, never read past.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "bpf/gather_plan.h"
#include "bpf/gather_record.h"

namespace vtrace::bpf {

// Return addresses in the record (not necessarily 8-byte aligned: read through memcpy).
struct GatherFrames {
  const uint8_t* bytes = nullptr;
  size_t count = 0;
  size_t size() const { return count; }
  bool empty() const { return count == 0; }
  uint64_t operator[](size_t i) const {
    uint64_t v;
    memcpy(&v, bytes + i * 8, 8);
    return v;
  }
};

struct GatherStringView {
  uint64_t addr = 0;     // the address the expression gave
  uint32_t max = 0;      // the length it was read with
  int32_t len = 0;       // what the read returned: NUL included, 0 (nothing read) or < 0 (a fault)
  std::string_view str;  // the string without its NUL (copyin: the len bytes); empty when len <= 0
  bool bytes = false;    // a copyin() copy
  bool faulted() const { return len < 0; }
};

struct GatherView {
  GatherHeader header{};          // copied: the ring's bytes need not be aligned for it
  const uint8_t* data = nullptr;  // header.data_len bytes of the tracepoint record
  size_t data_len = 0;
  std::vector<GatherStringView> strings;  // one per plan.strings
  GatherFrames kstack, ustack;            // empty when not gathered or when gathering failed

  // header.comm up to its NUL (a function: the view may be copied, the header with it).
  std::string_view comm() const {
    return std::string_view(header.comm, strnlen(header.comm, sizeof(header.comm)));
  }
};

// Fills `out` (its pointers point into `bytes`) and returns true when the record is one `plan`'s
// program writes: exactly the plan's size, its probe id, data_len within the data room, every
// string's max below strsize and len within max + 1 with its NUL, stack lengths multiples of 8
// within their sections. Returns false otherwise (out is then unspecified).
bool parse_gather_record(const uint8_t* bytes, size_t len, const GatherPlan& plan, GatherView& out);

}  // namespace vtrace::bpf
