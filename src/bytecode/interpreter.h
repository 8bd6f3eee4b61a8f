// Runs one verified clause against one record. The engine supplies the services that hold D
// state (dynamic variables, actions, aggregations) through the Host interface.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bytecode/data_memory.h"
#include "bytecode/module.h"
#include "transport/record.h"

namespace vtrace::bytecode {

enum class Fault : uint8_t {
  None,
  DivideByZero,
  OutOfScratch,
  BadSpeculation,  // speculate/commit/discard with an ID that is not active
  SpecExhausted,   // the speculation buffer (specsize) is full
  IllegalOp,       // an action not allowed here (e.g. data recorded before speculate())
  BadArgument,     // a subroutine argument out of its domain (e.g. lltostr base)
  BadAddress,      // copyinstr() of an address the target cannot be read at
  NotGathered,     // a value only the probe could read (a string, a stack) was not gathered there
};

const char* fault_name(Fault f);  // dtrace-style wording, e.g. "divide-by-zero"

// Bounded scratch space for strings made while a clause runs (strjoin, substr, variable loads),
// reset before each clause. Running out is a fault, as in DTrace.
class Scratch {
 public:
  explicit Scratch(size_t bytes) : buf_(bytes) {}
  void reset() { used_ = 0; }
  // Copies s (cut to max_len bytes) and a NUL; nullptr when there is no room.
  const char* copy(std::string_view s, size_t max_len);
  // Room for n bytes + NUL; nullptr when there is no room. Call commit(len) after writing.
  char* reserve(size_t n);
  void commit(size_t len) { used_ += len + 1; }

 private:
  std::vector<char> buf_;
  size_t used_ = 0;
};

// Values of global or clause-local scalars: integers in `ints`, strings in `strs`.
struct VarStore {
  std::vector<int64_t> ints;
  std::vector<std::string> strs;
  void resize(size_t n) {
    ints.assign(n, 0);
    strs.assign(n, std::string());
  }
  void clear() {
    for (auto& v : ints) v = 0;
    for (auto& s : strs) s.clear();
  }
};

// Names of the firing probe, NUL-terminated (built-ins probeprov, probemod, ...).
struct ProbeNames {
  const char* target = "host";
  const char* provider = "";
  const char* module = "";
  const char* function = "";
  const char* name = "";
};

class Host {
 public:
  virtual ~Host() = default;
  // Built-ins the record does not carry (walltimestamp, vtimestamp, ppid, uid, gid, errno).
  // NotGathered when the probe could not read it where it fired.
  virtual Fault builtin(Builtin b, int64_t& value) = 0;
  // Dynamic variables (associative arrays, self->). An absent element reads as 0 / "".
  // For a string variable the result is a pointer into the store, valid until the next store.
  virtual int64_t load_dyn(uint32_t var, std::string_view tuple) = 0;
  virtual void store_dyn(uint32_t var, std::string_view tuple, int64_t value) = 0;
  // An action (trace, printf, exit, ...); args are the register values.
  virtual Fault action(uint32_t index, const int64_t* args) = 0;
  virtual void aggregate(uint32_t agg, std::string_view tuple, int64_t value, int64_t incr) = 0;
  virtual int64_t speculation() = 0;
  // copyinstr(): reads a NUL-terminated string of at most max_len bytes at addr in the firing
  // process (the traced process, or vtrace itself for the dtrace provider) into out. Returns
  // Fault::BadAddress when it cannot be read.
  virtual Fault copyinstr(uint64_t addr, size_t max_len, std::string& out) {
    (void)addr, (void)max_len, (void)out;
    return Fault::BadAddress;
  }
  // copyin(): n bytes at addr in the firing process into out, under the same rules as
  // copyinstr(); BadAddress when they cannot all be read.
  virtual Fault copyin(uint64_t addr, size_t n, uint8_t* out) {
    (void)addr, (void)n, (void)out;
    return Fault::BadAddress;
  }
  // stack(frames) / ustack(frames): the id of the stack the probe gathered, cut to `frames`
  // frames (0: all of them).
  virtual Fault stack(bool user, uint32_t frames, int64_t& id) {
    (void)user, (void)frames, (void)id;
    return Fault::NotGathered;
  }
  // func, sym, mod (kernel) and ufunc, usym, umod, uaddr (the firing process): addr as text.
  virtual Fault symbol(Subr which, uint64_t addr, std::string& out) {
    (void)which, (void)addr, (void)out;
    return Fault::NotGathered;
  }
};

struct ExecContext {
  const Module* module = nullptr;
  const Record* record = nullptr;
  ProbeNames names;
  uint32_t epid = 0;
  uint32_t strsize = 256;  // longest string + 1
  Host* host = nullptr;
  VarStore* globals = nullptr;
  VarStore* locals = nullptr;
  Scratch* scratch = nullptr;
  DataMemory* memory = nullptr;  // alloca() and copyin(); reset with scratch
  std::string tuple;             // reused tuple buffer
  std::string strtok_rest;       // what strtok() has not returned yet (kept across clauses)
};

struct ExecResult {
  Fault fault = Fault::None;
  uint32_t pc = 0;               // offset of the faulting instruction
  bool predicate_false = false;  // the predicate failed: the body did not run
  uint64_t fault_addr = 0;       // BadAddress: the address that could not be read
};

// Runs a clause. The clause must have passed verify().
ExecResult execute(const ClauseCode& clause, ExecContext& ctx);

}  // namespace vtrace::bytecode
