// libFuzzer target: arbitrary bytes as D source through the D front end.
//
// Invariant under test: for any input, parsing either succeeds or throws lang::CompileError with
// a renderable message. Any other exception, crash, hang, leak or sanitizer report is a bug (an
// uncaught exception aborts, which libFuzzer reports as a crash).
//
// Seeds: fuzz/corpus/parse/ (one D script per file). Run: see fuzz/CMakeLists.txt.
#include <cstddef>
#include <cstdint>
#include <string>

#include "lang/parser.h"
#include "lang/source.h"

namespace {

void run(const vtrace::lang::Source& src, bool defaultargs) {
  vtrace::lang::MacroArgs macros;
  macros.args = {"fuzz.d", "42", "str", "syscall"};  // $0, $1, $2, $3
  macros.target = 4242;                               // $target
  macros.defaultargs = defaultargs;
  try {
    vtrace::lang::ast::Program program = vtrace::lang::parse(src, macros);

    // >>> LEAD: extend the pipeline here as the layers land, e.g.
    //   vm::Module mod = vtrace::lang::compile(program, src);   // checker + codegen + verifier
    // (compile() throws CompileError too; add the later layers' sources to fuzz/CMakeLists.txt).
    (void)program;
  } catch (const vtrace::lang::CompileError& e) {
    // The message the vtrace command would print: file:line:col, the source line and a caret.
    std::string text = e.render();
    (void)text;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vtrace::lang::Source src;
  src.name = "fuzz.d";
  src.text.assign(reinterpret_cast<const char*>(data), size);
  run(src, /*defaultargs=*/false);
  // Macro variables ($1, $$4, ...) take another path with -x defaultargs: try it when relevant.
  if (src.text.find('$') != std::string::npos) run(src, /*defaultargs=*/true);
  return 0;
}
