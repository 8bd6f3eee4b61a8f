// The instruction builders encode what the kernel's filter.h macros encode.
#include "bpf/insn.h"

#include <gtest/gtest.h>

#include <cstring>

namespace vtrace::bpf::insn {
namespace {

struct Fields {
  uint8_t code, dst, src;
  int16_t off;
  int32_t imm;
};

void expect(const bpf_insn& i, Fields f) {
  EXPECT_EQ(i.code, f.code);
  EXPECT_EQ(i.dst_reg, f.dst);
  EXPECT_EQ(i.src_reg, f.src);
  EXPECT_EQ(i.off, f.off);
  EXPECT_EQ(i.imm, f.imm);
}

TEST(Insn, MovesAndAlu) {
  expect(mov64(R6, R1), {0xbf, 6, 1, 0, 0});
  expect(mov64(R2, -72), {0xb7, 2, 0, 0, -72});
  expect(mov32(R3, R4), {0xbc, 3, 4, 0, 0});
  expect(alu64(BPF_ADD, R1, -80), {0x07, 1, 0, 0, -80});
  expect(alu64(BPF_RSH, R0, 32), {0x77, 0, 0, 0, 32});
  expect(alu64(BPF_ARSH, R1, R2), {0xcf, 1, 2, 0, 0});
  expect(alu64(BPF_MUL, R1, R2), {0x2f, 1, 2, 0, 0});
  expect(alu64(BPF_XOR, R1, -1), {0xa7, 1, 0, 0, -1});
  expect(neg64(R5), {0x87, 5, 0, 0, 0});
}

TEST(Insn, LoadsAndStores) {
  expect(ldx(8, R3, R10, -80), {0x79, 3, 10, -80, 0});
  expect(ldx(4, R1, R7, 100), {0x61, 1, 7, 100, 0});
  expect(ldx(2, R1, R7, 2), {0x69, 1, 7, 2, 0});
  expect(ldx(1, R1, R7, 3), {0x71, 1, 7, 3, 0});
  expect(stx(8, R10, -8, R1), {0x7b, 10, 1, -8, 0});
  expect(stx(4, R7, 36, R0), {0x63, 7, 0, 36, 0});
  expect(st(4, R7, 0, 42), {0x62, 7, 0, 0, 42});
  expect(st(1, R7, 72, 0), {0x72, 7, 0, 72, 0});
  expect(atomic_add64(R0, 0, R1), {0xdb, 0, 1, 0, BPF_ADD});
}

TEST(Insn, JumpsCallsExit) {
  expect(jmp(BPF_JNE, R0, 0, 7), {0x55, 0, 0, 7, 0});
  expect(jmp(BPF_JSGT, R8, 0, 3), {0x65, 8, 0, 3, 0});
  expect(jmp(BPF_JLE, R8, 255, 1), {0xb5, 8, 0, 1, 255});
  expect(jmp(BPF_JSLT, R0, 0, 5), {0xc5, 0, 0, 5, 0});
  expect(jmp(BPF_JEQ, R1, R2, -4), {0x1d, 1, 2, -4, 0});
  expect(ja(2), {0x05, 0, 0, 2, 0});
  expect(call(BPF_FUNC_ringbuf_reserve), {0x85, 0, 0, 0, 131});
  expect(exit_insn(), {0x95, 0, 0, 0, 0});
}

TEST(Insn, TwoSlotLoads) {
  auto w = ld_imm64(R1, 0x1122334455667788ull);
  expect(w[0], {0x18, 1, 0, 0, 0x55667788});
  expect(w[1], {0, 0, 0, 0, 0x11223344});
  auto neg = ld_imm64(R2, uint64_t(-2));
  expect(neg[0], {0x18, 2, 0, 0, -2});
  expect(neg[1], {0, 0, 0, 0, -1});
  auto m = ld_map_fd(R1, 9);
  expect(m[0], {0x18, 1, BPF_PSEUDO_MAP_FD, 0, 9});
  expect(m[1], {0, 0, 0, 0, 0});
}

TEST(Insn, BuildersAreConstexpr) {
  constexpr bpf_insn i = mov64(R0, 0);
  static_assert(i.code == (BPF_ALU64 | BPF_MOV | BPF_K));
  static_assert(sizeof(bpf_insn) == 8);
}

}  // namespace
}  // namespace vtrace::bpf::insn
