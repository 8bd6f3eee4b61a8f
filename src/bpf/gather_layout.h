// Where each section of a gather record (gather_record.h) starts for a given plan: the one
// computation the program that writes records and the parser that reads them share.
#pragma once
#include <cstdint>

#include "bpf/gather_plan.h"
#include "bpf/gather_record.h"

namespace vtrace::bpf {

// The kernel's per-CPU buffer for a tracepoint record is this big (PERF_MAX_TRACE_SIZE): a plan
// may copy at most that much of it.
inline constexpr uint32_t kMaxDataRoom = 8192;
// Bounds that keep every offset a program computes in 32 bits and a record well inside a ring.
inline constexpr uint32_t kMaxStrsize = 65536;
inline constexpr uint64_t kMaxRecordSize = 1u << 24;

constexpr uint64_t align8(uint64_t n) {
  return (n + 7) & ~uint64_t{7};
}

struct GatherLayout {
  uint64_t data_offset = sizeof(GatherHeader);
  uint64_t data_room = 0;       // plan.data_size + plan.data_extra
  uint64_t strings_offset = 0;  // slot i at strings_offset + i * string_stride
  uint64_t string_stride = 0;   // sizeof(GatherString) + strsize, padded to 8
  uint64_t kstack_offset = 0;
  uint64_t ustack_offset = 0;
  uint64_t size = 0;  // the whole record

  uint64_t string_offset(size_t i) const { return strings_offset + i * string_stride; }
};

constexpr GatherLayout gather_layout(const GatherPlan& p) {
  GatherLayout l;
  l.data_room = uint64_t{p.data_size} + p.data_extra;
  l.strings_offset = align8(l.data_offset + l.data_room);
  l.string_stride = sizeof(GatherString) + align8(p.strsize);
  l.kstack_offset = l.strings_offset + p.strings.size() * l.string_stride;
  l.ustack_offset = l.kstack_offset + uint64_t{p.kernel_frames} * 8;
  l.size = l.ustack_offset + uint64_t{p.user_frames} * 8;
  return l;
}

}  // namespace vtrace::bpf
