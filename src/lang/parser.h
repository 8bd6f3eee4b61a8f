// D source text -> AST. Throws CompileError (file:line:col) on any lexical or syntax error.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "lang/ast.h"
#include "lang/source.h"

namespace vtrace::lang {

// Values for macro variables: $0 (script name), $1..$9 and $$1..$$9 from the command line, and
// $target (pid of the -c / -p process; 0 when none). With defaultargs, a missing $n reads as 0
// and a missing $$n as "" instead of being an error.
struct MacroArgs {
  std::vector<std::string> args;  // args[0] is $0
  int64_t target = 0;
  bool defaultargs = false;
  // As dtrace: the last argument given must be referenced ($n or $$n) unless argref is set
  // (-x argref, #pragma D option argref): an extraneous argument is an error.
  bool argref = false;
  // -x pspec (or #pragma D option pspec): an ambiguous top-level word such as int*x is a probe
  // description, not the start of a declaration.
  bool pspec = false;
};

ast::Program parse(const Source& src, const MacroArgs& macros);

}  // namespace vtrace::lang
