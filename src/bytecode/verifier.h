// Checks a clause's bytecode before it may run: only forward jumps that land inside the program,
// register, table and built-in indices in range, and every register read holds a value of the
// type the instruction needs (integer or string) on every path that reaches it.
#pragma once
#include <string>

#include "bytecode/module.h"

namespace vtrace::bytecode {

// Returns "" when the clause is valid, else a description of the first problem.
std::string verify(const Module& module, const ClauseCode& clause);

// Argument/result types of a subroutine, for the compiler and the verifier.
struct SubrSig {
  const char* name;
  lang::Kind result;
  std::vector<lang::Kind> args;
};
const SubrSig& subr_signature(Subr s);

}  // namespace vtrace::bytecode
