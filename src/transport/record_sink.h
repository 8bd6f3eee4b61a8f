// Where a target delivers the records it reads: the timeline's merge (targets/timeline.h), which
// hands them to the engine in time order, or the engine itself when one target runs alone.
#pragma once
#include "transport/record.h"

namespace vtrace {

class RecordSink {
 public:
  virtual ~RecordSink() = default;
  // One record. Its pointers (tail, data, copies, stacks) are valid during the call only: a sink
  // that keeps the record copies them (HeldRecord).
  virtual void deliver(const Record& rec) = 0;
  // Nothing more is wanted (the script ran exit(), the output went away): a target stops
  // delivering the rest of its round.
  virtual bool closed() const { return false; }
};

}  // namespace vtrace
