// The D compiler's back half: type checks the AST and generates verified bytecode.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bytecode/module.h"
#include "lang/ast.h"
#include "lang/source.h"

namespace vtrace::lang {

// Throws CompileError pointing at the offending construct. Every clause of the result has passed
// the verifier.
// Resolves args->FIELD for a clause's probe descriptions: the field's place in the record, or
// nothing with `err` saying why ("tracepoint:sched::sched_switch has no field foo").
using FieldResolver = std::function<std::optional<bytecode::FieldRef>(
    const std::vector<bytecode::ProbeSpec>& probes, const std::string& field, std::string& err)>;

bytecode::Module compile(const ast::Program& program, const Source& src,
                         const FieldResolver& fields = {});

// parse() + compile().
struct MacroArgs;
bytecode::Module compile_source(const Source& src, const MacroArgs& macros,
                                const FieldResolver& fields = {});

// The names the compiler knows, sorted: built-in variables, subroutines, actions (the manual
// page names every one: tests/cli/man_page_test.cpp).
std::vector<std::string> builtin_variable_names();
std::vector<std::string> subroutine_names();
std::vector<std::string> action_names();

}  // namespace vtrace::lang
