// The vtrace bytecode: a register machine in the spirit of DTrace's DIF. Registers hold 64-bit
// integers or string references (a pointer to a NUL-terminated string no longer than the
// strsize option). Jumps only go forward, so every program terminates; the verifier checks this
// and the register types before a program may run.
#pragma once
#include <cstdint>

namespace vtrace::bytecode {

enum class Op : uint8_t {
  Ret,  // stop: the clause is done
  Mov,  // r[a] = r[b]
  Ldi,  // r[a] = consts[imm]
  Lds,  // r[a] = strings[imm]
  // integer binary: r[a] = r[b] OP r[c]
  Add,
  Sub,
  Mul,
  Sdiv,
  Udiv,
  Srem,
  Urem,
  And,
  Or,
  Xor,
  Shl,
  Lsr,
  Asr,
  Eq,
  Ne,
  Slt,
  Sle,
  Ult,
  Ule,   // 0 or 1
  Scmp,  // r[a] = -1/0/1 comparing strings r[b], r[c]
  // integer unary: r[a] = OP r[b]
  Neg,
  Not,
  LNot,
  Narrow,  // r[a] = r[b] truncated/extended to the integer type coded in imm (see narrow_code)
  Jmp,     // pc += 1 + imm
  Jz,      // if r[a] == 0: pc += 1 + imm
  Jnz,     // if r[a] != 0: pc += 1 + imm
  Ldb,     // r[a] = built-in variable imm (Builtin)
  Ldg,     // r[a] = globals[imm]
  Stg,     // globals[imm] = r[a]
  Ldl,     // r[a] = clause-local (this->) imm
  Stl,     // clause-local imm = r[a]
  Tclr,    // tuple = ()
  Tpush,   // tuple += r[a]
  Ldd,     // r[a] = dynamic variable imm [tuple]  (associative arrays, self-> variables)
  Std,     // dynamic variable imm [tuple] = r[a]; storing 0 / "" frees the element
  Call,    // r[a] = subroutine imm (arguments r[b] .. r[b+c-1])
  Act,     // action imm (arguments r[b] .. r[b+c-1])
  Agg,     // aggregation imm [tuple] updated with value r[b] and weight r[c]
  Ldf,     // r[a] = field imm (Module::fields) of the record's data; outside it: BadAddress
  // Memory a D pointer reaches (alloca'd scratch): the integer type coded in imm (narrow_code).
  // An address outside it is a BadAddress fault.
  Ldm,  // r[a] = *(type *)r[b]
  Stm,  // *(type *)r[b] = r[a]
};

struct Insn {
  Op op;
  uint8_t a = 0, b = 0, c = 0;
  uint32_t imm = 0;
};

inline constexpr int kMaxRegs = 256;

// Integer type coding for Narrow: size in the low 4 bits, bit 4 set when signed.
inline constexpr uint32_t narrow_code(uint8_t size, bool is_signed) {
  return size | (is_signed ? 0x10u : 0u);
}

enum class Builtin : uint8_t {
  Timestamp,
  Vtimestamp,
  Walltimestamp,
  Pid,
  Ppid,
  Tid,
  Uid,
  Gid,
  Cpu,
  Vcpu,
  Id,
  Epid,
  Arg0,
  Arg1,
  Arg2,
  Arg3,
  Arg4,
  Arg5,
  Arg6,
  Arg7,
  Arg8,
  Arg9,
  Errno,
  Guesttimestamp,
  Vcpustolen,  // host ns the vCPU was preempted since its previous guest record
  // strings
  Execname,
  Probeprov,
  Probemod,
  Probefunc,
  Probename,
  Vmname,
  Count_
};

inline constexpr bool builtin_is_string(Builtin b) {
  return b >= Builtin::Execname;
}

enum class Subr : uint8_t {
  Strlen,
  Strjoin,
  Substr2,
  Substr3,
  Index2,
  Index3,
  Rindex2,
  Rindex3,
  Strstr,
  Lltostr1,
  Lltostr2,
  Basename,
  Dirname,
  Speculation,
  Rand,
  Toupper,
  Tolower,
  Strtoll,
  Copyinstr1,  // copyinstr(addr): a string of the traced process (or the copy the site made)
  Copyinstr2,  // copyinstr(addr, len)
  Strchr,      // strchr(s, c): s from the first c on, "" when none
  Strrchr,     // strrchr(s, c): s from the last c on, "" when none
  // The stack gathered at the probe (kernel or user), at most n frames: an id the engine prints.
  Stack0,   // stack()
  Stack1,   // stack(n)
  Ustack0,  // ustack()
  Ustack1,  // ustack(n)
  // An address as a symbol of the kernel (func, sym, mod) or of the firing process (u...).
  Func,
  Sym,
  Mod,
  Ufunc,
  Usym,
  Umod,
  Uaddr,
  // Memory (data_memory.h).
  Alloca,     // alloca(n): n bytes of scratch, 8-aligned; a pointer
  Bcopy,      // bcopy(src, dst, n): n bytes from src (scratch) to dst (scratch)
  BcopyStr,   // bcopy(src, dst, n) with a string src: its bytes, NULs after its end
  Copyin,     // copyin(addr, n): n bytes of the firing process at addr, copied to scratch
  Copyinto,   // copyinto(addr, n, dst)
  Memstr,     // the NUL-terminated string at a scratch pointer, at most n bytes (stringof(p))
  StrBytes,   // a string as bytes in scratch: what (char *) of a string points at
  StrChar,    // s[i]: the i-th character of a string (0 past its end, within strsize)
  Strtok2,    // strtok(s, delims): the first token of s; the rest is kept for strtok(NULL, ...)
  Strtok1,    // strtok(NULL, delims): the next token of what the last strtok() kept
  Htons,      // htons / ntohs: the low 16 bits byte-swapped (a little-endian host)
  Htonl,      // htonl / ntohl
  Htonll,     // htonll / ntohll
  InetNtoa,   // inet_ntoa(ipaddr_t *): "a.b.c.d" of the 4 bytes (network order) in D memory
  InetNtoa6,  // inet_ntoa6(in6_addr_t *): the IPv6 address of the 16 bytes, as inet_ntop(3)
  InetNtop,   // inet_ntop(af, addr): AF_INET or AF_INET6
  Count_
};

}  // namespace vtrace::bytecode
