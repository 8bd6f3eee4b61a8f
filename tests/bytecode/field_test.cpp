// args->FIELD: the compiler's field resolver, the Ldf instruction, its verifier rules and its
// bounds checks against the record's data.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "lang/compiler.h"
#include "lang/parser.h"
#include "bytecode/interpreter.h"
#include "bytecode/verifier.h"

namespace vtrace::bytecode {
namespace {

class TraceHost : public Host {
 public:
  Fault builtin(Builtin, int64_t& v) override {
    v = 0;
    return Fault::None;
  }
  int64_t load_dyn(uint32_t, std::string_view) override { return 0; }
  void store_dyn(uint32_t, std::string_view, int64_t) override {}
  Fault action(uint32_t index, const int64_t* args) override {
    const auto& t = mod->actions[index].arg_types.at(0);
    if (t.is_string())
      strs.emplace_back(reinterpret_cast<const char*>(args[0]));
    else
      ints.push_back(args[0]);
    return Fault::None;
  }
  void aggregate(uint32_t, std::string_view, int64_t, int64_t) override {}
  int64_t speculation() override { return 0; }
  const Module* mod = nullptr;
  std::vector<int64_t> ints;
  std::vector<std::string> strs;
};

std::optional<FieldRef> resolver(const std::vector<ProbeSpec>& probes, const std::string& name,
                                 std::string& err) {
  if (probes.at(0).provider != "tracepoint") {
    err = "not a tracepoint";
    return std::nullopt;
  }
  if (name == "a") return FieldRef{"a", 8, 4, true, FieldRef::Int};
  if (name == "u") return FieldRef{"u", 8, 2, false, FieldRef::Int};
  if (name == "s") return FieldRef{"s", 12, 8, false, FieldRef::CharArray};
  if (name == "d") return FieldRef{"d", 20, 4, false, FieldRef::DataLoc};
  if (name == "far") return FieldRef{"far", 60, 8, false, FieldRef::Int};
  err = "tracepoint:x::y has no field " + name;
  return std::nullopt;
}

Module compile(const std::string& text) {
  lang::Source src{"t.d", text};
  return lang::compile_source(src, lang::MacroArgs{}, resolver);
}

struct FieldRun {
  explicit FieldRun(Module m) : mod(std::move(m)), scratch(4096) {
    host.mod = &mod;
    globals.resize(mod.globals.size());
    locals.resize(mod.locals.size());
    ctx.module = &mod;
    ctx.record = &rec;
    ctx.host = &host;
    ctx.globals = &globals;
    ctx.locals = &locals;
    ctx.scratch = &scratch;
  }
  ExecResult go() {
    scratch.reset();
    return execute(mod.clauses.at(0), ctx);
  }
  Module mod;
  TraceHost host;
  Scratch scratch;
  VarStore globals, locals;
  Record rec;
  ExecContext ctx;
};

std::vector<uint8_t> record_data() {
  std::vector<uint8_t> d(40, 0);
  int32_t a = -5;
  std::memcpy(d.data() + 8, &a, 4);
  std::memcpy(d.data() + 12, "comm\0xyz", 8);
  uint32_t loc = (6u << 16) | 24;  // "hello\0" at 24
  std::memcpy(d.data() + 20, &loc, 4);
  std::memcpy(d.data() + 24, "hello", 6);
  return d;
}

TEST(FieldTest, LoadsIntegersAndStrings) {
  FieldRun r(
      compile("tracepoint:x::y { trace(args->a); trace(args->u); trace(args->s); "
              "trace(args->d); }"));
  ASSERT_EQ(r.mod.fields.size(), 4u);
  auto d = record_data();
  r.rec.data = d.data();
  r.rec.data_len = static_cast<uint32_t>(d.size());
  ExecResult res = r.go();
  ASSERT_EQ(res.fault, Fault::None) << fault_name(res.fault);
  ASSERT_EQ(r.host.ints.size(), 2u);
  EXPECT_EQ(r.host.ints[0], -5);
  EXPECT_EQ(r.host.ints[1], 0xfffb);  // the low 2 bytes, unsigned
  ASSERT_EQ(r.host.strs.size(), 2u);
  EXPECT_EQ(r.host.strs[0], "comm");
  EXPECT_EQ(r.host.strs[1], "hello");
}

TEST(FieldTest, OutOfRangeIsInvalidAddress) {
  auto d = record_data();
  {
    FieldRun r(compile("tracepoint:x::y { trace(args->far); }"));
    r.rec.data = d.data();
    r.rec.data_len = static_cast<uint32_t>(d.size());
    EXPECT_EQ(r.go().fault, Fault::BadAddress);
  }
  {
    FieldRun r(compile("tracepoint:x::y { trace(args->a); }"));  // no data at all
    EXPECT_EQ(r.go().fault, Fault::BadAddress);
  }
  {
    // A __data_loc pointing past the end of the record.
    uint32_t loc = (200u << 16) | 24;
    std::memcpy(d.data() + 20, &loc, 4);
    FieldRun r(compile("tracepoint:x::y { trace(args->d); }"));
    r.rec.data = d.data();
    r.rec.data_len = static_cast<uint32_t>(d.size());
    EXPECT_EQ(r.go().fault, Fault::BadAddress);
  }
}

TEST(FieldTest, CompileErrors) {
  EXPECT_THROW(compile("tracepoint:x::y { trace(args->nope); }"), lang::CompileError);
  try {
    compile("tracepoint:x::y { trace(args->nope); }");
  } catch (const lang::CompileError& e) {
    EXPECT_NE(e.render().find("tracepoint:x::y has no field nope"), std::string::npos);
  }
  EXPECT_THROW(compile("BEGIN { trace(args->a); }"), lang::CompileError);
  // Without a resolver args-> is an error, not a crash.
  lang::Source src{"t.d", "tracepoint:x::y { trace(args->a); }"};
  EXPECT_THROW(lang::compile_source(src, lang::MacroArgs{}), lang::CompileError);
  // args->a is an int: it takes part in arithmetic; args->s is a string.
  EXPECT_NO_THROW(compile("tracepoint:x::y /args->a + 1 > 0 && args->s == \"x\"/ { }"));
}

TEST(FieldTest, VerifierChecksLdf) {
  Module m = compile("tracepoint:x::y { trace(args->a); }");
  EXPECT_EQ(verify(m, m.clauses[0]), "");
  Module bad = m;
  bad.fields[0].size = 3;
  EXPECT_NE(verify(bad, bad.clauses[0]).find("bad field size"), std::string::npos);
  bad = m;
  bad.fields.clear();
  EXPECT_NE(verify(bad, bad.clauses[0]).find("field index out of range"), std::string::npos);
}

}  // namespace
}  // namespace vtrace::bytecode
