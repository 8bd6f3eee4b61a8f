// The D compiler's back half: type checks the AST and generates verified bytecode.
#pragma once
#include "lang/ast.h"
#include "lang/source.h"
#include "vm/module.h"

namespace vtrace::lang {

// Throws CompileError pointing at the offending construct. Every clause of the result has passed
// the verifier.
vm::Module compile(const ast::Program& program, const Source& src);

// parse() + compile().
struct MacroArgs;
vm::Module compile_source(const Source& src, const MacroArgs& macros);

}  // namespace vtrace::lang
