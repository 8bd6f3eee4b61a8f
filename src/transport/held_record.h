// A Record that owns what it points to, so it can wait in the merge after the ring it came
// from has moved on (targets/timeline.h): the tail, the event's raw data, the strings copied at
// the probe and the stacks are copied into one block and the record's pointers moved there.
#pragma once
#include <cstdint>
#include <memory>

#include "transport/record.h"

namespace vtrace {

class HeldRecord {
 public:
  HeldRecord() = default;
  explicit HeldRecord(const Record& rec);
  HeldRecord(HeldRecord&&) = default;  // the block moves with the record: pointers stay valid
  HeldRecord& operator=(HeldRecord&&) = default;
  HeldRecord(const HeldRecord&) = delete;
  HeldRecord& operator=(const HeldRecord&) = delete;

  const Record& record() const { return rec_; }

 private:
  Record rec_;
  std::unique_ptr<uint64_t[]> block_;  // 8-byte aligned: stacks and CopiedStrings live here
};

}  // namespace vtrace
