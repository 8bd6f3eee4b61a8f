// A compiled D program: per-clause bytecode plus the tables the bytecode indexes (constants,
// strings, variables, actions, aggregations). The compiler (src/lang) builds it, the verifier
// checks it, the engine runs it.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bytecode/isa.h"
#include "lang/source.h"
#include "lang/types.h"

namespace vtrace::bytecode {

enum class VarScope : uint8_t { Global, Thread, Clause };

struct VarInfo {
  std::string name;
  lang::Type type;
  VarScope scope = VarScope::Global;
  bool is_array = false;
  std::vector<lang::Type> key_types;
};

enum class ActionKind : uint8_t {
  Trace,
  Printf,
  Printa,
  Exit,
  Speculate,
  Commit,
  Discard,
  Clear,
  Trunc,
  Normalize,
  Denormalize,
  System,
  Tracemem,  // tracemem(addr, size[, nbytes]): a hex dump of D memory
};

struct Action {
  ActionKind kind{};
  std::vector<lang::Type> arg_types;  // types of the register arguments, in order
  std::string format;                 // Printf / Printa / System
  bool has_format = false;            // Printa with a format
  uint32_t agg = 0;                   // Printa / Clear / Trunc / Normalize / Denormalize
  std::vector<uint32_t> more_aggs;    // Printa of several: printa("%d %@d %@d", @a, @b)
  uint32_t mem_size = 0;              // Tracemem: the constant size
  lang::Loc loc;
};

// Mirrors engine::AggFunc (same order).
enum class AggFunc : uint8_t { Count, Sum, Avg, Min, Max, Stddev, Quantize, Lquantize, Llquantize };

struct AggInfo {
  std::string name;  // without '@'
  AggFunc func = AggFunc::Count;
  std::vector<lang::Type> key_types;
  int64_t base = 0, limit = 0, step = 1;                // lquantize
  int64_t factor = 10, low = 0, high = 0, nsteps = 10;  // llquantize
  lang::Loc loc;
};

struct ProbeSpec {
  std::string target, provider, module, function, name;
  std::string text;
  lang::Loc loc;
};

// One test of a predicate that only compares arguments with integer constants (`/arg0 > 10 &&
// arg1 == 3/`): true when args[arg] CMP value, signed or unsigned as D compares them.
struct ArgTest {
  enum Cmp : uint8_t { Eq, Ne, Lt, Le, Gt, Ge, Ltu, Leu, Gtu, Geu };
  uint8_t arg = 0;
  Cmp cmp = Eq;
  int64_t value = 0;
  bool operator==(const ArgTest&) const = default;
};

struct ClauseCode {
  std::vector<ProbeSpec> probes;
  std::vector<Insn> code;
  uint32_t nregs = 0;
  uint32_t predicate_end = 0;  // code before this offset is the predicate
  // The predicate as tests joined by &&, when it is nothing else (a probe.h site runs them
  // without the bytecode machine); false when there is no predicate or it does more.
  bool predicate_is_tests = false;
  std::vector<ArgTest> predicate_tests;
  // Whether a firing prints dtrace's probe line (CPU, ID, FUNCTION:NAME) when not quiet: every
  // clause does but one whose statements are all aggregations.
  bool prints_probe_line = true;
  lang::Loc loc;
};

struct Pragma {
  std::string name, value;
  lang::Loc loc;
};

// A field of an event record that args->NAME reads (Ldf): where it lies in Record::data.
struct FieldRef {
  enum Kind : uint8_t {
    Int,        // an integer of `size` (1, 2, 4, 8) bytes
    CharArray,  // char name[size]: a string NUL-terminated within size bytes (0: to the end)
    DataLoc,    // __data_loc char[]: a u32 (len << 16 | offset from the record's start)
    RelLoc,     // __rel_loc char[]: as DataLoc, offset from the end of the u32
  };
  std::string name;
  uint32_t offset = 0, size = 0;
  bool is_signed = false;
  Kind kind = Int;
  bool is_string() const { return kind != Int; }
  bool operator==(const FieldRef&) const = default;
};

struct Module {
  // Keeps the program's struct, union and enum definitions alive for the types below.
  std::vector<std::shared_ptr<const lang::CType>> definitions;
  std::string source_name;
  std::vector<int64_t> consts;
  std::vector<std::string> strings;
  std::vector<VarInfo> globals;  // Ldg / Stg
  std::vector<VarInfo> locals;   // Ldl / Stl (this->)
  std::vector<VarInfo> dynvars;  // Ldd / Std (associative arrays and self->)
  std::vector<Action> actions;
  std::vector<AggInfo> aggs;
  std::vector<ClauseCode> clauses;
  std::vector<Pragma> pragmas;
  std::vector<FieldRef> fields;  // Ldf
  // Variables of array, struct or union type live in memory (data_memory.h): the bytes of the
  // global ones and of the this-> ones.
  uint64_t global_data_size = 0;
  uint64_t local_data_size = 0;
  // alloca() calls of a constant size: the engine checks them against scratchsize before the
  // program runs, as dtrace does when it compiles.
  struct ConstAlloca {
    uint64_t size;
    lang::Loc loc;
  };
  std::vector<ConstAlloca> const_allocas;
};

}  // namespace vtrace::bytecode
