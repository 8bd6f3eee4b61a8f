// Builders for raw eBPF instructions (struct bpf_insn), as the kernel's filter.h macros spell
// them: our programs are emitted as instruction arrays, never compiled from C, so these are the
// whole assembler. Registers: r0 return value, r1-r5 helper arguments (clobbered by calls),
// r6-r9 callee-saved, r10 the read-only frame pointer.
#pragma once
#include <linux/bpf.h>

#include <array>
#include <cstdint>

namespace vtrace::bpf::insn {

enum Reg : uint8_t { R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 };

constexpr bpf_insn make(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

// BPF_B/H/W/DW for an access of `bytes` bytes (1, 2, 4 or 8).
constexpr uint8_t size_code(unsigned bytes) {
  return bytes == 1 ? BPF_B : bytes == 2 ? BPF_H : bytes == 4 ? BPF_W : BPF_DW;
}

// dst = src, dst = imm (sign-extended to 64 bits).
constexpr bpf_insn mov64(Reg dst, Reg src) {
  return make(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);
}
constexpr bpf_insn mov64(Reg dst, int32_t imm) {
  return make(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}
// dst = (u32)src: zero-extends, so it also truncates a register to 32 bits.
constexpr bpf_insn mov32(Reg dst, Reg src) {
  return make(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0);
}

// dst OP= src / imm, 64-bit; op is BPF_ADD, BPF_SUB, BPF_MUL, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH,
// BPF_RSH, BPF_ARSH, ...
constexpr bpf_insn alu64(uint8_t op, Reg dst, Reg src) {
  return make(BPF_ALU64 | op | BPF_X, dst, src, 0, 0);
}
constexpr bpf_insn alu64(uint8_t op, Reg dst, int32_t imm) {
  return make(BPF_ALU64 | op | BPF_K, dst, 0, 0, imm);
}
constexpr bpf_insn neg64(Reg dst) {
  return make(BPF_ALU64 | BPF_NEG, dst, 0, 0, 0);
}

// dst = *(size *)(src + off)
constexpr bpf_insn ldx(unsigned bytes, Reg dst, Reg src, int16_t off) {
  return make(BPF_LDX | BPF_MEM | size_code(bytes), dst, src, off, 0);
}
// *(size *)(dst + off) = src
constexpr bpf_insn stx(unsigned bytes, Reg dst, int16_t off, Reg src) {
  return make(BPF_STX | BPF_MEM | size_code(bytes), dst, src, off, 0);
}
// *(size *)(dst + off) = imm
constexpr bpf_insn st(unsigned bytes, Reg dst, int16_t off, int32_t imm) {
  return make(BPF_ST | BPF_MEM | size_code(bytes), dst, 0, off, imm);
}
// lock *(u64 *)(dst + off) += src
constexpr bpf_insn atomic_add64(Reg dst, int16_t off, Reg src) {
  return make(BPF_STX | BPF_ATOMIC | BPF_DW, dst, src, off, BPF_ADD);
}

// if (dst OP src / imm) goto pc + 1 + off; op is BPF_JEQ, BPF_JNE, BPF_JGT, BPF_JSGT, ...
constexpr bpf_insn jmp(uint8_t op, Reg dst, Reg src, int16_t off) {
  return make(BPF_JMP | op | BPF_X, dst, src, off, 0);
}
constexpr bpf_insn jmp(uint8_t op, Reg dst, int32_t imm, int16_t off) {
  return make(BPF_JMP | op | BPF_K, dst, 0, off, imm);
}
constexpr bpf_insn ja(int16_t off) {
  return make(BPF_JMP | BPF_JA, 0, 0, off, 0);
}

constexpr bpf_insn call(bpf_func_id helper) {
  return make(BPF_JMP | BPF_CALL, 0, 0, 0, helper);
}
constexpr bpf_insn exit_insn() {
  return make(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

// dst = imm64: the one two-slot instruction (the second slot holds the upper half).
constexpr std::array<bpf_insn, 2> ld_imm64(Reg dst, uint64_t imm) {
  return {make(BPF_LD | BPF_DW | BPF_IMM, dst, 0, 0, static_cast<int32_t>(imm & 0xffffffffu)),
          make(0, 0, 0, 0, static_cast<int32_t>(imm >> 32))};
}
// dst = the map of file descriptor fd (the kernel swaps the fd for the map's address at load).
constexpr std::array<bpf_insn, 2> ld_map_fd(Reg dst, int fd) {
  return {make(BPF_LD | BPF_DW | BPF_IMM, dst, BPF_PSEUDO_MAP_FD, 0, fd), make(0, 0, 0, 0, 0)};
}

}  // namespace vtrace::bpf::insn
