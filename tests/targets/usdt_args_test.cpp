// USDT argument specs: every x86-64 operand form, parsed and evaluated against synthetic sampled
// registers and stack, and reads of process memory outside the sampled stack.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

#include "targets/host/usdt_args.h"

namespace vtrace::targets::host {
namespace {

UsdtArg parse(const std::string& s) {
  UsdtArg a;
  std::string err;
  EXPECT_TRUE(parse_usdt_arg(s, a, err)) << s << ": " << err;
  return a;
}

std::string parse_error(const std::string& s) {
  UsdtArg a;
  std::string err;
  EXPECT_FALSE(parse_usdt_arg(s, a, err)) << s;
  return err;
}

TEST(UsdtArgs, Register) {
  UsdtArg a = parse("-4@%edi");
  EXPECT_EQ(a.kind, UsdtArg::Kind::Reg);
  EXPECT_EQ(a.size, 4);
  EXPECT_TRUE(a.is_signed);
  EXPECT_EQ(a.reg, kRegDi);
  EXPECT_EQ(parse("8@%rax").reg, kRegAx);
  EXPECT_FALSE(parse("8@%rax").is_signed);
  EXPECT_EQ(parse("1@%sil").reg, kRegSi);
  EXPECT_EQ(parse("-4@%r12d").reg, kRegR12);
  EXPECT_EQ(parse("8@%r8").reg, kRegR8);
  EXPECT_EQ(parse("2@%r15w").reg, kRegR15);
  UsdtArg ah = parse("1@%ah");
  EXPECT_EQ(ah.reg, kRegAx);
  EXPECT_EQ(ah.shift, 8);
}

TEST(UsdtArgs, Immediate) {
  UsdtArg a = parse("-8@$42");
  EXPECT_EQ(a.kind, UsdtArg::Kind::Imm);
  EXPECT_EQ(a.value, 42);
  EXPECT_EQ(parse("-4@$-7").value, -7);
  EXPECT_EQ(parse("8@$0x10").value, 16);
}

TEST(UsdtArgs, Memory) {
  UsdtArg a = parse("8@-16(%rbp)");
  EXPECT_EQ(a.kind, UsdtArg::Kind::Mem);
  EXPECT_EQ(a.reg, kRegBp);
  EXPECT_EQ(a.value, -16);
  EXPECT_EQ(a.index, kRegNone);
  UsdtArg b = parse("4@8(%rsp,%rdx,4)");
  EXPECT_EQ(b.reg, kRegSp);
  EXPECT_EQ(b.index, kRegDx);
  EXPECT_EQ(b.scale, 4);
  EXPECT_EQ(b.value, 8);
  UsdtArg c = parse("8@(%rdi)");
  EXPECT_EQ(c.reg, kRegDi);
  EXPECT_EQ(c.value, 0);
  UsdtArg d = parse("-4@g_counter(%rip)");
  EXPECT_EQ(d.symbol, "g_counter");
  EXPECT_EQ(d.reg, kRegIp);
  UsdtArg e = parse("8@8+CheckpointStats(%rip)");
  EXPECT_EQ(e.symbol, "CheckpointStats");
  EXPECT_EQ(e.value, 8);
  UsdtArg f = parse("4@(%rax,%rbx)");
  EXPECT_EQ(f.index, kRegBx);
  EXPECT_EQ(f.scale, 1);
}

// Found by fuzz/usdt_fuzz: two displacements whose sum overflows int64 were a signed overflow
// (undefined behaviour; the sanitizer build aborts). They add modulo 2^64, as addresses do.
TEST(UsdtArgs, DisplacementSumWrapsAround) {
  EXPECT_EQ(parse("8@9223372036854775807+9223372036854775807(%rsp)").value, -2);
  EXPECT_EQ(parse("8@-9223372036854775808-1(%rbp)").value, INT64_MAX);
  UsdtArg a = parse("-4@9223372036854775807+1+Sym(%rip)");
  EXPECT_EQ(a.value, INT64_MIN);
  EXPECT_EQ(a.symbol, "Sym");
}

TEST(UsdtArgs, Errors) {
  EXPECT_NE(parse_error("3@%eax").find("size"), std::string::npos);
  EXPECT_NE(parse_error("8@%xmm0").find("not supported"), std::string::npos);
  parse_error("8@$");
  parse_error("8@$12z");
  parse_error("8@-16(%rbp");
  parse_error("8@(%rax,%rbx,3)");
  parse_error("8@");
  parse_error("8@%rax)");
  parse_error("8@$99999999999999999999999");
  std::vector<UsdtArg> v;
  std::string err;
  EXPECT_TRUE(parse_usdt_args("-4@%edi 8@-16(%rbp)  -8@$42", v, err));
  EXPECT_EQ(v.size(), 3u);
  EXPECT_TRUE(parse_usdt_args("", v, err));
  EXPECT_TRUE(v.empty());
  EXPECT_FALSE(parse_usdt_args("8@%rax 8@%rax 8@%rax", v, err, 2));
}

TEST(UsdtArgs, Mask) {
  std::vector<UsdtArg> v;
  std::string err;
  ASSERT_TRUE(parse_usdt_args("-4@%edi 4@8(%rsp,%rdx,4) 8@$1", v, err));
  EXPECT_EQ(usdt_regs_mask(v), (1ull << kRegDi) | (1ull << kRegSp) | (1ull << kRegDx));
  EXPECT_TRUE(usdt_reads_memory(v));
}

struct Sample {
  UsdtSampleRegs s;
  uint8_t stack[64];
  Sample() {
    for (int i = 0; i < 64; ++i) stack[i] = static_cast<uint8_t>(i);
    s.stack = stack;
    s.stack_size = sizeof stack;
    set(kRegSp, 0x7ffd0000);
  }
  void set(uint8_t r, uint64_t v) {
    s.regs[r] = v;
    s.valid |= 1ull << r;
  }
};

int64_t eval(const std::string& spec, const Sample& smp, UsdtEvalStats& st) {
  return eval_usdt_arg(parse(spec), smp.s, st);
}

TEST(UsdtArgs, EvalRegistersAndConstants) {
  Sample smp;
  UsdtEvalStats st;
  smp.set(kRegDi, 0xffffffffull);  // -1 as an int
  EXPECT_EQ(eval("-4@%edi", smp, st), -1);
  EXPECT_EQ(eval("4@%edi", smp, st), 0xffffffff);
  smp.set(kRegAx, 0x1234);
  EXPECT_EQ(eval("1@%al", smp, st), 0x34);
  EXPECT_EQ(eval("1@%ah", smp, st), 0x12);
  EXPECT_EQ(eval("-2@%ax", smp, st), 0x1234);
  EXPECT_EQ(eval("-8@$-7", smp, st), -7);
  EXPECT_EQ(eval("-4@$-7", smp, st), -7);
  EXPECT_EQ(eval("1@$300", smp, st), 300 & 0xff);
  EXPECT_EQ(st.missing_regs, 0u);
  EXPECT_EQ(eval("8@%rbx", smp, st), 0);  // not sampled
  EXPECT_EQ(st.missing_regs, 1u);
}

TEST(UsdtArgs, EvalStackOperands) {
  Sample smp;
  UsdtEvalStats st;
  smp.set(kRegBp, 0x7ffd0000 + 32);
  uint64_t want;
  std::memcpy(&want, smp.stack + 16, 8);
  EXPECT_EQ(eval("8@-16(%rbp)", smp, st), static_cast<int64_t>(want));
  EXPECT_EQ(eval("1@8(%rsp)", smp, st), 8);
  smp.set(kRegDx, 3);
  EXPECT_EQ(eval("1@8(%rsp,%rdx,4)", smp, st), 20);  // 8 + 3*4
  EXPECT_EQ(eval("-1@(%rsp)", smp, st), 0);
  smp.stack[5] = 0xfe;
  EXPECT_EQ(eval("-1@5(%rsp)", smp, st), -2);
  EXPECT_EQ(st.stack_reads, 5u);
  // The last bytes of the copy, and one past it (no pid: a failed read).
  EXPECT_EQ(eval("1@63(%rsp)", smp, st), 63);
  EXPECT_EQ(eval("2@63(%rsp)", smp, st), 0);
  EXPECT_EQ(st.failed_reads, 1u);
}

TEST(UsdtArgs, EvalProcessMemory) {
  static volatile int64_t value = -123456789;
  Sample smp;
  UsdtEvalStats st;
  smp.s.pid = getpid();
  smp.set(kRegSi, reinterpret_cast<uint64_t>(&value));
  EXPECT_EQ(eval("-8@(%rsi)", smp, st), -123456789);
  EXPECT_EQ(eval("-4@(%rsi)", smp, st), static_cast<int32_t>(-123456789));
  EXPECT_EQ(st.process_reads, 2u);
  // Unmapped: 0 and counted.
  smp.set(kRegSi, 8);
  EXPECT_EQ(eval("8@(%rsi)", smp, st), 0);
  EXPECT_EQ(st.failed_reads, 1u);
  // A %rip-relative symbol resolved against the probe's address.
  UsdtArg g = parse("-8@value(%rip)");
  const uint64_t pc = 0x1000, sym = 0x3000;
  resolve_usdt_symbol(g, sym, pc);
  EXPECT_TRUE(g.symbol.empty());
  smp.set(kRegIp, reinterpret_cast<uint64_t>(&value) - (sym - pc));
  EXPECT_EQ(eval_usdt_arg(g, smp.s, st), -123456789);
  // Never resolved: 0 and counted.
  EXPECT_EQ(eval("8@other(%rip)", smp, st), 0);
}

}  // namespace
}  // namespace vtrace::targets::host
