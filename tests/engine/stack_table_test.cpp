// stack(), ustack() and the symbol functions through the engine: the table interns stacks and
// looks their symbols up (a fake Symbolizer here); the text is sys::stack_format's, dtrace's
// layouts (the expected outputs of dtrace-utils' tests, cited in tests/sys/symbols_test.cpp).
#include "engine/stack_table.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "lang/compiler.h"
#include "lang/parser.h"
#include "mem_file.h"

namespace vtrace::engine {
namespace {

using vtrace::test::MemFile;

constexpr uint64_t kKernel = 0xffffffff81000000;
constexpr uint64_t kUser = 0x401000;

// Kernel functions every 0x100 bytes from kKernel; user functions of "app" every 0x40 from kUser
// (a pid other than 42 knows none); 0x7f0000001000 is in libc.so.6 without a symbol.
class FakeSymbolizer : public Symbolizer {
 public:
  Symbol kernel(uint32_t target, uint64_t addr) override {
    static const char* const names[] = {"__vfs_write", "ksys_write", "__x64_sys_write",
                                        "do_syscall_64", "entry_SYSCALL_64"};
    if (target != 0 || addr < kKernel || addr >= kKernel + 5 * 0x100) return {};
    const uint64_t i = (addr - kKernel) / 0x100;
    return {"vmlinux", names[i], addr - kKernel - i * 0x100};
  }
  Symbol user(const UserSpace& space, uint64_t addr) override {
    static const char* const names[] = {"baz", "bar", "foo", "main"};
    if (space.pid == 42 && space.image == 2) return {"other", "after_exec", 0};
    if (space.target != 0 || space.pid != 42) return {};
    if (addr >= 0x7f0000000000 && addr < 0x7f0000100000) return {"libc.so.6", "", 0};
    if (addr < kUser || addr >= kUser + 4 * 0x40) return {};
    const uint64_t i = (addr - kUser) / 0x40;
    return {"app", names[i], addr - kUser - i * 0x40};
  }
  void remember(bool user, const UserSpace& space, const uint64_t*, size_t n) override {
    if (user) remembered.push_back({space.pid, n});
  }
  std::vector<std::pair<int32_t, size_t>> remembered;
};

const uint64_t kFrames[] = {kKernel + 0x2a, kKernel + 0x100 + 0x5e, kKernel + 0x200,
                            kKernel + 0x300 + 0x7};
const uint64_t kUframes[] = {kUser + 0x8, kUser + 0x40 + 0x8, 0x7f0000001234, 0x12345};

TEST(StackTable, InternsAndPrintsInDtracesLayout) {
  FakeSymbolizer sym;
  StackTable t;
  t.set_symbolizer(&sym);
  const int64_t id = t.intern(false, {0, 42}, kFrames, 4, 0);
  EXPECT_EQ(t.intern(false, {0, 7}, kFrames, 4, 0), id);  // a kernel stack: whichever process
  EXPECT_NE(t.intern(false, {0, 42}, kFrames, 3, 0), id);
  // The function's first instruction has no "+0x0" (dt_print_stack, dtrace_addr2str).
  EXPECT_EQ(t.format(id),
            "\n"
            "              vmlinux`__vfs_write+0x2a\n"
            "              vmlinux`ksys_write+0x5e\n"
            "              vmlinux`__x64_sys_write\n"
            "              vmlinux`do_syscall_64+0x7\n");
  const int64_t u = t.intern(true, {0, 42}, kUframes, 4, 0);
  ASSERT_EQ(sym.remembered.size(), 1u);  // a user stack's mappings are kept when it is taken
  EXPECT_EQ(sym.remembered[0], (std::pair<int32_t, size_t>{42, 4}));
  EXPECT_EQ(t.format(u, sys::printf_stack_layout(0, false)),
            "\napp`baz+0x8\napp`bar+0x8\nlibc.so.6`0x7f0000001234\n0x12345\n");
}

// A guest's agent numbers each process image (an exec starts a new one): the same addresses in
// two images are two stacks, each named in its own program.
TEST(StackTable, TheSameAddressesInAnotherProcessImageAreAnotherStack) {
  FakeSymbolizer sym;
  StackTable t;
  t.set_symbolizer(&sym);
  const int64_t before = t.intern(true, {0, 42, 1}, kUframes, 1, 0);
  const int64_t after = t.intern(true, {0, 42, 2}, kUframes, 1, 0);
  EXPECT_NE(before, after);
  EXPECT_EQ(t.format(before, sys::printf_stack_layout(0, false)), "\napp`baz+0x8\n");
  EXPECT_EQ(t.format(after, sys::printf_stack_layout(0, false)), "\nother`after_exec\n");
  EXPECT_EQ(t.symbol_text('s', true, {0, 42, 2}, kUframes[0], false), "other`after_exec");
}

TEST(StackTable, WithoutASymbolizerFramesAreAddresses) {
  StackTable t;
  const uint64_t frames[] = {0x401008, 0, 0x401010};  // a zero pc ends the stack
  EXPECT_EQ(t.format(t.intern(true, {0, 42}, frames, 3, 0)), "\n              0x401008\n");
  EXPECT_EQ(t.symbol_text('s', true, {0, 42}, 0x401008, false), "0x401008");
  EXPECT_EQ(t.symbol_text('m', false, {0, 0}, 0x401008, false), "0x401008");
}

TEST(StackTable, UnwindFailuresAndDropsAreSaid) {
  FakeSymbolizer sym;
  StackTable t(2);
  t.set_symbolizer(&sym);
  EXPECT_EQ(t.format(t.intern(false, {0, 0}, nullptr, 0, -EFAULT)),
            "\n              <kernel stack not unwound: Bad address>\n");
  EXPECT_EQ(
      t.format(t.intern(true, {0, 42}, kUframes, 1, -EFAULT)),
      "\n              app`baz+0x8\n              <user stack unwind stopped: Bad address>\n");
  EXPECT_EQ(t.intern(false, {0, 0}, kFrames, 1, 0), 0);  // the table is full
  EXPECT_EQ(t.drops(), 1u);
  EXPECT_EQ(t.format(0), "\n              <stack dropped: too many distinct stacks>\n");
}

TEST(StackTable, SymbolFunctions) {
  FakeSymbolizer sym;
  StackTable t;
  t.set_symbolizer(&sym);
  // sym()/func(): no offset; uaddr(): with one; mod(): the module alone.
  EXPECT_EQ(t.symbol_text('s', false, {0, 0}, kKernel + 0x105, false), "vmlinux`ksys_write");
  EXPECT_EQ(t.symbol_text('m', false, {0, 0}, kKernel + 0x105, false), "vmlinux");
  EXPECT_EQ(t.symbol_text('s', true, {0, 42}, kUser + 0x41, true), "app`bar+0x1");
  EXPECT_EQ(t.symbol_text('s', true, {0, 42}, kUser + 0x40, true), "app`bar");
  // A module without a symbol for the address still places it (dtrace_addr2str).
  EXPECT_EQ(t.symbol_text('s', true, {0, 42}, 0x7f0000001234, false), "libc.so.6`0x7f0000001234");
  EXPECT_EQ(t.symbol_text('m', true, {0, 42}, 0x7f0000001234, false), "libc.so.6");
  EXPECT_EQ(t.symbol_text('s', true, {0, 7}, kUser, false), "0x401000");
  EXPECT_EQ(t.symbol_text('m', true, {0, 7}, kUser, false), "0x401000");
}

// An engine running D with stacks in its records.
struct StackHarness {
  explicit StackHarness(const std::string& text, bool quiet = true) {
    tick = catalog.add("host", "test", "mod", "func", "tick");
    src.name = "t.d";
    src.text = text;
    Options opts;
    opts.quiet = quiet;
    opts.testing = true;
    eng = std::make_unique<Engine>(lang::compile_source(src, {}), src, opts, catalog);
    eng->set_output(out.file());
    eng->set_error_output(err.file());
    eng->set_symbolizer(&sym);
    eng->enable();
  }
  void fire(size_t kframes, size_t uframes = 0, int64_t arg0 = 0) {
    Record r;
    r.probe = tick;
    r.pid = 42;
    r.tid = 42;
    r.cpu = 1;
    r.timestamp = r.raw_timestamp = 1000;
    r.args[0] = arg0;
    std::snprintf(r.execname, sizeof r.execname, "%s", "app");
    r.kstack = GatheredStack{kFrames, static_cast<int32_t>(kframes)};
    r.ustack = GatheredStack{kUframes, static_cast<int32_t>(uframes)};
    eng->process(r);
  }

  Catalog catalog;
  uint32_t tick = 0;
  lang::Source src;
  FakeSymbolizer sym;
  std::unique_ptr<Engine> eng;
  MemFile out, err;
};

const char kTwoFrames[] =
    "              vmlinux`__vfs_write+0x2a\n"
    "              vmlinux`ksys_write+0x5e\n";

// test/unittest/stack/tst.stack_fbt.x86_64.r: the frames on the lines after the probe line.
TEST(EngineStacks, TraceOfAStack) {
  StackHarness h("test:::tick { trace(stack()); }", false);  // testing mode: no CPU, ID
  h.fire(2);
  EXPECT_EQ(h.out.text(),
            "                   FUNCTION:NAME\n"
            "                       func:tick \n" +
                std::string(kTwoFrames) + "\n");
  EXPECT_EQ(h.err.text(), "");
}

// An aggregation keyed by a stack: the value on the line after the last frame.
TEST(EngineStacks, AggregationKeyedByAStack) {
  StackHarness h("test:::tick { @[stack()] = count(); @u[ustack(2), arg0] = sum(arg0); }");
  h.fire(2, 4, 3);
  h.fire(2, 4, 3);
  h.eng->finish();
  EXPECT_EQ(h.out.text(), "\n\n" + std::string(kTwoFrames) +
                              "                2\n"
                              "\n"
                              "              app`baz+0x8\n"
                              "              app`bar+0x8\n"
                              "                3                6\n");
}

// test/unittest/ustack/tst.spin.sh: "%k" starts its frames on a line of their own, not indented;
// test/unittest/printa/tst.stack.d: "%-20k" indents each frame by 20, "%60k" right-aligns it.
TEST(EngineStacks, PercentK) {
  StackHarness h(
      "test:::tick { printf(\"START%kEND\\n\", stack()); printf(\"[%-20k]\", stack(1)); "
      "printf(\"[%40k]\", stack(1)); printf(\"[%*k]\\n\", -3, stack(1)); @[stack(1)] = count(); "
      "printa(\"START%kEND %@d\\n\", @); }");
  h.fire(2);
  const std::string frame = "vmlinux`__vfs_write+0x2a";
  EXPECT_EQ(h.out.text(),
            "START\nvmlinux`__vfs_write+0x2a\nvmlinux`ksys_write+0x5e\nEND\n"
            "[\n" +
                std::string(20, ' ') + frame +
                "\n]"
                "[\n" +
                std::string(40 - frame.size(), ' ') + frame +
                "\n]"
                "[\n   " +
                frame +
                "\n]\n"
                "START\n" +
                frame + "\nEND 1\n");
  EXPECT_EQ(h.err.text(), "");
}

TEST(EngineStacks, SymbolFunctions) {
  StackHarness h(
      "test:::tick { printf(\"%s|%s|%s|%s|%s|%s\\n\", sym(arg0), func(arg0), mod(arg0), "
      "usym(0x401045), umod(0x401045), uaddr(0x401045)); @[usym(0x401045)] = count(); }");
  h.fire(0, 0, static_cast<int64_t>(kKernel + 0x105));
  h.fire(0, 0, static_cast<int64_t>(kKernel + 0x105));
  h.eng->finish();
  // As an aggregation key a symbol is a "  %-50s" field (dt_print_sym; tst.ufuncsort.r).
  const std::string line =
      "vmlinux`ksys_write|vmlinux`ksys_write|vmlinux|app`bar|app|app`bar+0x5\n";
  EXPECT_EQ(h.out.text(),
            line + line + "\n  " + sys::symbol_field("app`bar").substr(2) + "                2\n");
}

}  // namespace
}  // namespace vtrace::engine
