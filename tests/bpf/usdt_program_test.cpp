// USDT gather programs: the arguments they can evaluate, and that programs with every operand
// form pass the verifier (the end-to-end tests run them on real probes: tests/targets/usdt_*).
#include <gtest/gtest.h>

#include <cstddef>

#include "bpf/gather_program.h"
#include "bpf/usdt_program.h"
#include "bpf_kernel.h"

namespace vtrace::bpf {
namespace {

RegArg reg(int16_t off, uint8_t size, bool is_signed, uint8_t shift = 0) {
  RegArg a;
  a.kind = RegArg::Reg;
  a.reg = off;
  a.size = size;
  a.is_signed = is_signed;
  a.shift = shift;
  return a;
}

RegArg mem(int16_t base, int16_t index, uint8_t scale, int64_t disp, uint8_t size) {
  RegArg a;
  a.kind = RegArg::Mem;
  a.reg = base;
  a.index = index;
  a.scale = scale;
  a.value = disp;
  a.size = size;
  a.is_signed = true;
  return a;
}

std::vector<RegArg> every_form() {
  RegArg imm;
  imm.value = -7;
  return {imm,
          reg(112, 8, true),             // %rdi
          reg(80, 1, false, 8),          // %ah
          reg(104, 2, true),             // %si
          mem(32, -1, 1, -20, 4),        // -20(%rbp)
          mem(152, 96, 4, 8, 8),         // 8(%rsp,%rdx,4)
          mem(128, -1, 1, 0x1000, 2),    // 0x1000(%rip)
          mem(-1, -1, 1, 0x601040, 8)};  // an absolute address
}

TEST(UsdtProgram, ChecksArguments) {
  std::string err;
  EXPECT_TRUE(check_usdt_args(every_form(), err)) << err;
  EXPECT_FALSE(check_usdt_args(std::vector<RegArg>(kUsdtArgs + 1), err));
  EXPECT_NE(err.find("at most 10"), std::string::npos) << err;
  RegArg bad = reg(112, 3, false);
  EXPECT_FALSE(check_usdt_args({bad}, err));
  bad = mem(32, -1, 3, 0, 8);
  EXPECT_FALSE(check_usdt_args({bad}, err));
  bad = reg(-1, 8, false);  // a register operand without its register
  EXPECT_FALSE(check_usdt_args({bad}, err));
  bad = reg(13, 8, false);  // not a register's offset
  EXPECT_FALSE(check_usdt_args({bad}, err));
}

TEST(UsdtProgram, PlansMustCarryTheArguments) {
  KernelLayout k;
  GatherSource how;
  how.usdt = every_form();
  GatherPlan p;
  p.data_size = 48;  // a tracepoint's record, not the arguments
  std::string err;
  EXPECT_TRUE(emit_gather_program(p, k, 3, 4, err, how).empty());
  EXPECT_NE(err.find("arguments"), std::string::npos) << err;
  p.data_size = kUsdtDataSize;
  EXPECT_FALSE(emit_gather_program(p, k, 3, 4, err, how).empty()) << err;
}

TEST(UsdtProgram, EveryOperandFormLoads) {
  SKIP_WITHOUT_BPF();
  std::string err;
  auto layout = read_kernel_layout(err);
  ASSERT_TRUE(layout) << err;
  auto ring = GatherRing::create(1 << 16, err);
  ASSERT_TRUE(ring) << err;
  GatherPlan p;
  p.data_size = kUsdtDataSize;
  p.strings.push_back({{{ExprOp::Field, 0, 8, 8, true}}, {}});  // copyinstr(arg1)
  p.user_frames = 8;
  for (uint32_t pid : {0u, 4242u}) {
    GatherSource how;
    how.usdt = every_form();
    how.usdt_pid = pid;  // with the process check, and without
    sys::UniqueFd prog =
        load_gather_program(p, *layout, ring->ring_fd(), ring->drops_fd(), "usdt", err, how);
    EXPECT_TRUE(prog.valid()) << err;
  }
}

}  // namespace
}  // namespace vtrace::bpf
