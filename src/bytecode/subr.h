// D subroutines (strlen, strjoin, substr, ...): pure functions on register values whose string
// results go to the bounded scratch space.
#pragma once
#include <cstdint>

#include "bytecode/interpreter.h"

namespace vtrace::bytecode {

Fault call_subr(Subr s, const int64_t* args, int64_t& result, ExecContext& ctx);

}  // namespace vtrace::bytecode
