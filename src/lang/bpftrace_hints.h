// Names a bpftrace user types in D, and what D calls them: the compiler's "Unknown variable" and
// "Unknown function" errors add a "did you mean" when it knows one.
#pragma once
#include <string>

namespace vtrace::lang {

// "; did you mean execname? (bpftrace's comm)", or "" when `name` is no bpftrace habit.
std::string bpftrace_hint(const std::string& name);

}  // namespace vtrace::lang
