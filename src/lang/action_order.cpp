#include "lang/action_order.h"

namespace vtrace::lang {

std::string ActionOrder::next(ActionClass c) {
  switch (c) {
    case ActionClass::Commit:
      if (data_ || aggregation_) return "commit( ) may not follow data-recording action(s)";
      commit_ = true;
      return "";
    case ActionClass::Discard:
      return "";
    case ActionClass::Speculate:
      if (speculate_) return "speculate( ) may not follow speculate( )";
      if (commit_) return "speculate( ) may not follow commit( )";
      if (data_ || aggregation_) return "speculate( ) may not follow data-recording action(s)";
      speculate_ = true;
      return "";
    case ActionClass::Aggregation:
      if (commit_) return "aggregating actions may not follow commit( )";
      if (speculate_) return "aggregating actions may not follow speculate( )";
      aggregation_ = true;
      return "";
    case ActionClass::Destructive:
      if (speculate_) return "destructive actions may not follow speculate( )";
      break;
    case ActionClass::Exit:
      if (speculate_) return "exit( ) may not follow speculate( )";
      break;
    case ActionClass::DataRecording:
      break;
  }
  if (commit_) return "data-recording actions may not follow commit( )";
  data_ = true;
  return "";
}

}  // namespace vtrace::lang
