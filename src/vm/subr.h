// D subroutines (strlen, strjoin, substr, ...): pure functions on register values whose string
// results go to the bounded scratch space.
#pragma once
#include <cstdint>

#include "vm/interpreter.h"

namespace vtrace::vm {

Fault call_subr(Subr s, const int64_t* args, int64_t& result, ExecContext& ctx);

}  // namespace vtrace::vm
