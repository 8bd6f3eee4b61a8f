// The order in which one clause may use speculate(), commit(), discard(), aggregations and
// data-recording actions: DTrace checks it at compile time (D_SPEC_SPEC, D_SPEC_DREC,
// D_COMM_DREC, D_AGG_SPEC, D_EXIT_SPEC, D_DREC_COMM, ...), in the order the actions are written.
#pragma once
#include <string>

namespace vtrace::lang {

enum class ActionClass {
  DataRecording,  // trace, printf, printa, clear, trunc, ...
  Destructive,    // system(): data-recording and destructive
  Exit,           // exit(): data-recording
  Aggregation,    // @a = f(...)
  Speculate,
  Commit,
  Discard,
};

class ActionOrder {
 public:
  // Records the next action of the clause. Returns "" when it may follow the ones before it,
  // else DTrace's message.
  std::string next(ActionClass c);

 private:
  bool data_ = false, aggregation_ = false, speculate_ = false, commit_ = false;
};

}  // namespace vtrace::lang
