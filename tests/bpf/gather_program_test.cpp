// Plans a gather program cannot serve are refused with a message that says why; programs the
// verifier refuses come back with its log; the kernel's layout comes from its BTF.
#include "bpf/gather_program.h"

#include <gtest/gtest.h>

#include "bpf/gather_layout.h"
#include "bpf/insn.h"
#include "bpf/program.h"
#include "bpf_kernel.h"

namespace vtrace::bpf {
namespace {

ExprOp field(uint32_t offset, uint8_t size = 8) {
  return {ExprOp::Field, 0, offset, size};
}
ExprOp cnst(int64_t v) {
  return {ExprOp::Const, v};
}
ExprOp op(ExprOp::Kind k) {
  return {k};
}

GatherPlan with_string(Expr addr, Expr len = {}) {
  GatherPlan p;
  p.data_size = 48;
  p.strings.push_back({std::move(addr), std::move(len)});
  return p;
}

std::string refusal(const GatherPlan& p) {
  std::string err;
  EXPECT_FALSE(check_gather_plan(p, err));
  return err;
}

TEST(GatherPlanCheck, WellFormedPlansPass) {
  std::string err;
  EXPECT_TRUE(check_gather_plan(GatherPlan{}, err)) << err;
  Expr deep;
  for (size_t i = 0; i < kMaxExprDepth; ++i) deep.push_back(cnst(int64_t(i) << 40));
  for (size_t i = 1; i < kMaxExprDepth; ++i) deep.push_back(op(ExprOp::Add));
  EXPECT_TRUE(check_gather_plan(with_string(deep, {field(40, 4), op(ExprOp::Neg)}), err)) << err;
  EXPECT_FALSE(emit_gather_program(with_string(deep), KernelLayout{}, 3, 4, err).empty());
}

TEST(GatherPlanCheck, UnresolvedArgumentsAreRefused) {
  std::string err = refusal(with_string({{ExprOp::Arg, 1}}));
  EXPECT_NE(err.find("probe argument 1"), std::string::npos) << err;
  EXPECT_NE(err.find("resolve it to a field"), std::string::npos) << err;
  EXPECT_TRUE(emit_gather_program(with_string({{ExprOp::Arg, 1}}), {}, 3, 4, err).empty());
}

TEST(GatherPlanCheck, BadExpressionsAreRefused) {
  EXPECT_NE(refusal(with_string({})).find("leaves 0 values"), std::string::npos);
  EXPECT_NE(refusal(with_string({cnst(1), cnst(2)})).find("leaves 2 values"), std::string::npos);
  EXPECT_NE(refusal(with_string({cnst(1), op(ExprOp::Add)})).find("pops more"), std::string::npos);
  EXPECT_NE(refusal(with_string({op(ExprOp::Not)})).find("pops more"), std::string::npos);
  Expr deep(kMaxExprDepth + 1, cnst(1));
  EXPECT_NE(refusal(with_string(deep)).find("evaluation slots"), std::string::npos);
  EXPECT_NE(refusal(with_string({field(44, 8)})).find("only 48 bytes are copied"),
            std::string::npos);
  EXPECT_NE(refusal(with_string({field(0, 3)})).find("3 bytes"), std::string::npos);
  EXPECT_NE(refusal(with_string({cnst(0)}, {field(48, 1)})).find("length"), std::string::npos);
  EXPECT_NE(refusal(with_string({{ExprOp::Kind(200)}})).find("unknown operation"),
            std::string::npos);
}

TEST(GatherPlanCheck, SizesBeyondTheLimitsAreRefused) {
  GatherPlan p;
  p.strsize = 0;
  EXPECT_NE(refusal(p).find("strsize 0"), std::string::npos);
  p.strsize = kMaxStrsize + 1;
  EXPECT_NE(refusal(p).find("strsize"), std::string::npos);
  p = {};
  p.data_size = kMaxDataRoom;
  p.data_extra = 1;
  EXPECT_NE(refusal(p).find("8193 bytes of its tracepoint record"), std::string::npos);
  p = {};
  p.strsize = kMaxStrsize;
  p.strings.resize(300, {{cnst(0)}, {}});
  EXPECT_NE(refusal(p).find("lower strsize"), std::string::npos);
}

TEST(KernelLayout, MissingBtfSaysWhatToDo) {
  std::string err;
  EXPECT_FALSE(read_kernel_layout(err, "/nonexistent/vmlinux"));
  EXPECT_NE(err.find("/nonexistent/vmlinux"), std::string::npos) << err;
  EXPECT_NE(err.find("CONFIG_DEBUG_INFO_BTF"), std::string::npos) << err;
}

TEST(KernelLayout, ReadFromTheRunningKernel) {
  if (access(kVmlinuxBtf, R_OK) != 0) GTEST_SKIP() << "no kernel BTF at " << kVmlinuxBtf;
  std::string err;
  auto k = read_kernel_layout(err);
  ASSERT_TRUE(k) << err;
  EXPECT_GT(k->task_real_parent, 0u);
  EXPECT_GT(k->task_tgid, 0u);
  EXPECT_GT(k->task_se, 0u);
  EXPECT_NE(k->task_tgid, k->task_real_parent);
  EXPECT_LT(k->se_sum_exec_runtime, 1024u);
  // x86-64 pt_regs is fixed: r15 r14 r13 r12 bp bx r11 r10 r9 r8 ax cx dx si di orig_ax ...
  EXPECT_EQ(k->regs_r9, 8 * 8u);
  EXPECT_EQ(k->regs_r8, 9 * 8u);
  EXPECT_EQ(k->regs_ax, 10 * 8u);
  EXPECT_EQ(k->regs_dx, 12 * 8u);
  EXPECT_EQ(k->regs_si, 13 * 8u);
  EXPECT_EQ(k->regs_di, 14 * 8u);
  EXPECT_EQ(k->regs_orig_ax, 15 * 8u);
  EXPECT_EQ(k->regs_r10, 7 * 8u);
}

TEST(LoadProgram, TheVerifiersReasonIsInTheError) {
  SKIP_WITHOUT_BPF();
  using namespace insn;
  const bpf_insn bad[] = {mov64(R0, R2), exit_insn()};  // r2 was never written
  std::string err;
  sys::UniqueFd fd =
      load_program(BPF_PROG_TYPE_TRACEPOINT, bad, "vtrace_bad", "a test program", err);
  EXPECT_FALSE(fd.valid());
  EXPECT_NE(err.find("loading a test program: "), std::string::npos) << err;
  EXPECT_NE(err.find("verifier log"), std::string::npos) << err;
  EXPECT_NE(err.find("R2 !read_ok"), std::string::npos) << err;

  const bpf_insn good[] = {mov64(R0, 0), exit_insn()};
  fd = load_program(BPF_PROG_TYPE_TRACEPOINT, good, "vtrace good name!", "a test program", err);
  EXPECT_TRUE(fd.valid()) << err;
}

TEST(LoadProgram, ARecordTooBigForTheRingIsRefused) {
  SKIP_WITHOUT_BPF();
  std::string err;
  auto k = read_kernel_layout(err);
  ASSERT_TRUE(k) << err;
  auto ring = GatherRing::create(4096, err);
  ASSERT_TRUE(ring) << err;
  GatherPlan p = with_string({field(24)});
  p.strsize = 4096;
  sys::UniqueFd fd = load_gather_program(p, *k, ring->ring_fd(), ring->drops_fd(), "x:y", err);
  EXPECT_FALSE(fd.valid());
  EXPECT_NE(err.find("the BPF program for x:y"), std::string::npos) << err;
  EXPECT_NE(err.find("raise bufsize"), std::string::npos) << err;
}

TEST(Attach, UnknownTracepointsAreErrors) {
  SKIP_WITHOUT_BPF();
  using namespace insn;
  const bpf_insn good[] = {mov64(R0, 0), exit_insn()};
  std::string err;
  sys::UniqueFd prog = load_program(BPF_PROG_TYPE_TRACEPOINT, good, "t", "a test program", err);
  ASSERT_TRUE(prog.valid()) << err;
  EXPECT_FALSE(attach_tracepoint(prog.get(), 0xfffffff0, "no:such", err).valid());
  EXPECT_NE(err.find("no:such"), std::string::npos) << err;
  // A tracepoint program is not a raw tracepoint program.
  EXPECT_FALSE(attach_raw_tracepoint(prog.get(), "sched_switch", err).valid());
  EXPECT_NE(err.find("sched_switch"), std::string::npos) << err;
}

TEST(Attach, RawTracepoint) {
  SKIP_WITHOUT_BPF();
  using namespace insn;
  const bpf_insn good[] = {mov64(R0, 0), exit_insn()};
  std::string err;
  sys::UniqueFd prog =
      load_program(BPF_PROG_TYPE_RAW_TRACEPOINT, good, "raw", "a raw test program", err);
  ASSERT_TRUE(prog.valid()) << err;
  EXPECT_TRUE(attach_raw_tracepoint(prog.get(), "sys_enter", err).valid()) << err;
  EXPECT_FALSE(attach_raw_tracepoint(prog.get(), "no_such_tracepoint_here", err).valid());
  EXPECT_NE(err.find("no_such_tracepoint_here"), std::string::npos) << err;
}

TEST(GatherRing, SizesArePowersOfTwoPages) {
  EXPECT_EQ(ring_size_for(0), 4096u);
  EXPECT_EQ(ring_size_for(4096), 4096u);
  EXPECT_EQ(ring_size_for(4097), 8192u);
  EXPECT_EQ(ring_size_for(4 << 20), size_t(4) << 20);
  EXPECT_EQ(ring_size_for((4 << 20) + 1), size_t(8) << 20);
}

}  // namespace
}  // namespace vtrace::bpf
