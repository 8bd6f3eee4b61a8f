// libFuzzer target: arbitrary bytes as D source through the whole front end and a short run:
// lexer, parser, checker + codegen, the bytecode verifier, then the engine firing BEGIN, a few
// synthetic probe records and END.
//
// Invariant under test: for any input, compiling either succeeds (and every clause passes the
// verifier, which compile() checks) or throws lang::CompileError with a renderable message, and
// running the result never crashes, hangs or trips a sanitizer. Any other exception is a bug (an
// uncaught exception aborts, which libFuzzer reports as a crash).
//
// Seeds: fuzz/corpus/parse/ (one D script per file). Run: see fuzz/CMakeLists.txt.
#include <cstddef>
#include <cstdint>
#include <string>

#include <cstdio>

#include "engine/catalog.h"
#include "engine/engine.h"
#include "engine/profile_provider.h"
#include "lang/compiler.h"
#include "lang/parser.h"
#include "lang/source.h"

namespace {

void run(const vtrace::lang::Source& src, bool defaultargs) {
  vtrace::lang::MacroArgs macros;
  macros.args = {"fuzz.d", "42", "str", "syscall"};  // $0, $1, $2, $3
  macros.target = 4242;                              // $target
  macros.defaultargs = defaultargs;
  try {
    vtrace::lang::ast::Program program = vtrace::lang::parse(src, macros);
    vtrace::bytecode::Module module = vtrace::lang::compile(program, src);

    vtrace::engine::Options opts;
    opts.quiet = true;
    opts.zdefs = true;
    opts.strsize = 64;  // small buffers make the bounds easy to reach
    for (const auto& p : module.pragmas) opts.set(p.name, p.value);
    opts.destructive = false;  // never run system() from fuzz input
    vtrace::engine::Catalog catalog;
    vtrace::engine::ProfileProvider profile(catalog);
    uint32_t probe = catalog.add("host", "fuzz", "mod", "func", "tick");
    vtrace::engine::Engine engine(std::move(module), src, opts, catalog);
    engine.enable();
    static std::FILE* devnull = std::fopen("/dev/null", "w");
    engine.set_output(devnull);
    engine.set_error_output(devnull);
    engine.begin();
    for (int i = 0; i < 4 && !engine.exited(); ++i) {
      vtrace::Record rec = vtrace::engine::Engine::host_record(probe);
      rec.args[0] = i * 1000 - 1;
      rec.tid = i % 2;
      engine.process(rec);
    }
    engine.finish();
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
