// A predicate that only compares arguments with integer constants, joined by && (`/arg0 > 10 &&
// arg1 == 3/`, `/arg2/`, `/!arg0/`): the form a probe.h site can evaluate where it fires, so a
// clause with such a predicate can still aggregate in the traced process.
#pragma once
#include <optional>
#include <vector>

#include "bytecode/module.h"
#include "lang/ast.h"

namespace vtrace::lang {

// The predicate's tests, all of which must hold, or nothing when it is of another form. The
// constants are integer literals (with -, + or ~): their type decides, as C's usual arithmetic
// conversions with an argument's int64_t do, whether a comparison is signed.
std::optional<std::vector<bytecode::ArgTest>> predicate_tests(const ast::Expr& predicate);

}  // namespace vtrace::lang
