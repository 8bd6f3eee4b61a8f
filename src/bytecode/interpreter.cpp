#include "bytecode/interpreter.h"

#include <algorithm>
#include <cstring>

#include "bytecode/subr.h"
#include "bytecode/tuple.h"

namespace vtrace::bytecode {

const char* fault_name(Fault f) {
  switch (f) {
    case Fault::None:
      return "no fault";
    case Fault::DivideByZero:
      return "divide-by-zero";
    case Fault::OutOfScratch:
      return "out of scratch space";
    case Fault::BadSpeculation:  // dtrace's DTRACEFLT_ILLOP
      return "illegal operation";
    case Fault::SpecExhausted:
      return "speculation buffer exhausted";
    case Fault::IllegalOp:
      return "illegal operation";
    case Fault::BadArgument:
      return "invalid argument to subroutine";
    case Fault::BadAddress:
      return "invalid address";
    case Fault::NotGathered:
      return "not gathered at the probe";
  }
  return "unknown fault";
}

const char* Scratch::copy(std::string_view s, size_t max_len) {
  if (s.size() > max_len) s = s.substr(0, max_len);
  char* p = reserve(s.size());
  if (p == nullptr) return nullptr;
  if (!s.empty()) std::memcpy(p, s.data(), s.size());  // (an empty view may have no data)
  p[s.size()] = '\0';
  commit(s.size());
  return p;
}

char* Scratch::reserve(size_t n) {
  if (used_ + n + 1 > buf_.size()) return nullptr;
  return buf_.data() + used_;
}

namespace {

inline const char* as_str(int64_t v) {
  return reinterpret_cast<const char*>(v);
}
inline int64_t from_str(const char* s) {
  return reinterpret_cast<int64_t>(s);
}

// A built-in from the record or the probe's names, or from the host for the others.
Fault load_builtin(Builtin b, ExecContext& ctx, int64_t& v) {
  const Record& rec = *ctx.record;
  v = 0;
  switch (b) {
    case Builtin::Timestamp:
      v = static_cast<int64_t>(rec.timestamp);
      return Fault::None;
    case Builtin::Guesttimestamp:
      v = static_cast<int64_t>(rec.raw_timestamp);
      return Fault::None;
    case Builtin::Pid:
      v = rec.pid;
      return Fault::None;
    case Builtin::Tid:
      v = rec.tid;
      return Fault::None;
    case Builtin::Cpu:
    case Builtin::Vcpu:
      v = rec.cpu;
      return Fault::None;
    case Builtin::Id:
      v = rec.probe;
      return Fault::None;
    case Builtin::Epid:
      v = ctx.epid;
      return Fault::None;
    case Builtin::Errno:
      v = rec.errno_value;
      return Fault::None;
    case Builtin::Vcpustolen:
      v = static_cast<int64_t>(rec.vcpu_stolen);
      return Fault::None;
    case Builtin::Execname:
      v = from_str(rec.execname);
      return Fault::None;
    case Builtin::Probeprov:
      v = from_str(ctx.names.provider);
      return Fault::None;
    case Builtin::Probemod:
      v = from_str(ctx.names.module);
      return Fault::None;
    case Builtin::Probefunc:
      v = from_str(ctx.names.function);
      return Fault::None;
    case Builtin::Probename:
      v = from_str(ctx.names.name);
      return Fault::None;
    case Builtin::Vmname:
      v = from_str(ctx.names.target);
      return Fault::None;
    default:
      break;
  }
  if (b >= Builtin::Arg0 && b <= Builtin::Arg9) {
    const int i = static_cast<int>(b) - static_cast<int>(Builtin::Arg0);
    if ((rec.unread_args >> i) & 1) return Fault::NotGathered;
    v = rec.args[i];
    return Fault::None;
  }
  return ctx.host->builtin(b, v);
}

// Appends register v to the tuple as the type the verifier proved it has.
inline void push_tuple(std::string& tuple, int64_t v, bool is_string, uint32_t strsize) {
  if (is_string) {
    const char* s = as_str(v);
    bytecode::tuple_put_str(tuple, std::string_view(s, strnlen(s, strsize - 1)));
  } else {
    bytecode::tuple_put_int(tuple, v);
  }
}

// args->NAME: a field of the record's data, every offset and length checked against data_len.
Fault load_field(const FieldRef& f, ExecContext& ctx, int64_t& out) {
  const Record& rec = *ctx.record;
  const uint64_t len = rec.data ? rec.data_len : 0;
  const uint8_t* d = rec.data;
  if (f.kind == FieldRef::Int) {
    if (uint64_t{f.offset} + f.size > len) return Fault::BadAddress;
    uint64_t v = 0;
    std::memcpy(&v, d + f.offset, f.size);  // little-endian: the low bytes
    out = lang::narrow(static_cast<int64_t>(v),
                       lang::Type::int_of(static_cast<uint8_t>(f.size), f.is_signed));
    return Fault::None;
  }
  uint64_t start = f.offset, span = f.size;
  if (f.kind == FieldRef::CharArray) {
    if (start > len) return Fault::BadAddress;
    if (span == 0) span = len - start;
  } else {
    if (uint64_t{f.offset} + 4 > len) return Fault::BadAddress;
    uint32_t loc = 0;
    std::memcpy(&loc, d + f.offset, 4);
    start = (loc & 0xffff) + (f.kind == FieldRef::RelLoc ? uint64_t{f.offset} + 4 : 0);
    span = loc >> 16;
  }
  if (start + span > len) return Fault::BadAddress;
  const char* s = reinterpret_cast<const char*>(d + start);
  size_t n = strnlen(s, std::min<uint64_t>(span, ctx.strsize - 1));
  const char* copy = ctx.scratch->copy(std::string_view(s, n), ctx.strsize - 1);
  if (copy == nullptr) return Fault::OutOfScratch;
  out = from_str(copy);
  return Fault::None;
}

}  // namespace

ExecResult execute(const ClauseCode& clause, ExecContext& ctx) {
  int64_t r[kMaxRegs];
  const Insn* code = clause.code.data();
  const uint32_t n = static_cast<uint32_t>(clause.code.size());
  const Module& mod = *ctx.module;
  ExecResult res;
  uint32_t pc = 0;
  auto fault = [&](Fault f) {
    res.fault = f;
    res.pc = pc;
    return res;
  };
  while (pc < n) {
    const Insn& in = code[pc];
    switch (in.op) {
      case Op::Ret:
        return res;
      case Op::Mov:
        r[in.a] = r[in.b];
        break;
      case Op::Ldi:
        r[in.a] = mod.consts[in.imm];
        break;
      case Op::Lds:
        r[in.a] = from_str(mod.strings[in.imm].c_str());
        break;
      case Op::Add:
        r[in.a] = static_cast<int64_t>(uint64_t(r[in.b]) + uint64_t(r[in.c]));
        break;
      case Op::Sub:
        r[in.a] = static_cast<int64_t>(uint64_t(r[in.b]) - uint64_t(r[in.c]));
        break;
      case Op::Mul:
        r[in.a] = static_cast<int64_t>(uint64_t(r[in.b]) * uint64_t(r[in.c]));
        break;
      case Op::Sdiv:
        if (r[in.c] == 0) return fault(Fault::DivideByZero);
        r[in.a] = (r[in.c] == -1) ? static_cast<int64_t>(0 - uint64_t(r[in.b])) : r[in.b] / r[in.c];
        break;
      case Op::Udiv:
        if (r[in.c] == 0) return fault(Fault::DivideByZero);
        r[in.a] = static_cast<int64_t>(uint64_t(r[in.b]) / uint64_t(r[in.c]));
        break;
      case Op::Srem:
        if (r[in.c] == 0) return fault(Fault::DivideByZero);
        r[in.a] = (r[in.c] == -1) ? 0 : r[in.b] % r[in.c];
        break;
      case Op::Urem:
        if (r[in.c] == 0) return fault(Fault::DivideByZero);
        r[in.a] = static_cast<int64_t>(uint64_t(r[in.b]) % uint64_t(r[in.c]));
        break;
      case Op::And:
        r[in.a] = r[in.b] & r[in.c];
        break;
      case Op::Or:
        r[in.a] = r[in.b] | r[in.c];
        break;
      case Op::Xor:
        r[in.a] = r[in.b] ^ r[in.c];
        break;
      // Shift counts are taken modulo 64, as the hardware does, so no shift is undefined.
      case Op::Shl:
        r[in.a] = static_cast<int64_t>(uint64_t(r[in.b]) << (r[in.c] & 63));
        break;
      case Op::Lsr:
        r[in.a] = static_cast<int64_t>(uint64_t(r[in.b]) >> (r[in.c] & 63));
        break;
      case Op::Asr:
        r[in.a] = r[in.b] >> (r[in.c] & 63);
        break;
      case Op::Eq:
        r[in.a] = r[in.b] == r[in.c];
        break;
      case Op::Ne:
        r[in.a] = r[in.b] != r[in.c];
        break;
      case Op::Slt:
        r[in.a] = r[in.b] < r[in.c];
        break;
      case Op::Sle:
        r[in.a] = r[in.b] <= r[in.c];
        break;
      case Op::Ult:
        r[in.a] = uint64_t(r[in.b]) < uint64_t(r[in.c]);
        break;
      case Op::Ule:
        r[in.a] = uint64_t(r[in.b]) <= uint64_t(r[in.c]);
        break;
      case Op::Scmp: {
        int c = strncmp(as_str(r[in.b]), as_str(r[in.c]), ctx.strsize);
        r[in.a] = (c > 0) - (c < 0);
        break;
      }
      case Op::Neg:
        r[in.a] = static_cast<int64_t>(0 - uint64_t(r[in.b]));
        break;
      case Op::Not:
        r[in.a] = ~r[in.b];
        break;
      case Op::LNot:
        r[in.a] = r[in.b] == 0;
        break;
      case Op::Narrow:
        r[in.a] = lang::narrow(r[in.b], lang::Type::int_of(in.imm & 0xf, (in.imm & 0x10) != 0));
        break;
      case Op::Jmp:
        pc += in.imm;
        break;
      case Op::Jz:
        if (r[in.a] == 0) {
          // The predicate ends with the Jz that skips the body.
          if (pc + 1 == clause.predicate_end) res.predicate_false = true;
          pc += in.imm;
        }
        break;
      case Op::Jnz:
        if (r[in.a] != 0) pc += in.imm;
        break;
      case Op::Ldb: {
        Fault f = load_builtin(static_cast<Builtin>(in.imm), ctx, r[in.a]);
        if (f != Fault::None) return fault(f);
        break;
      }
      case Op::Ldg:
      case Op::Ldl: {
        VarStore& vs = in.op == Op::Ldg ? *ctx.globals : *ctx.locals;
        const VarInfo& vi = in.op == Op::Ldg ? mod.globals[in.imm] : mod.locals[in.imm];
        if (vi.type.is_string()) {
          const char* s = ctx.scratch->copy(vs.strs[in.imm], ctx.strsize - 1);
          if (s == nullptr) return fault(Fault::OutOfScratch);
          r[in.a] = from_str(s);
        } else {
          r[in.a] = vs.ints[in.imm];
        }
        break;
      }
      case Op::Stg:
      case Op::Stl: {
        VarStore& vs = in.op == Op::Stg ? *ctx.globals : *ctx.locals;
        const VarInfo& vi = in.op == Op::Stg ? mod.globals[in.imm] : mod.locals[in.imm];
        if (vi.type.is_string()) {
          const char* s = as_str(r[in.a]);
          vs.strs[in.imm].assign(s, strnlen(s, ctx.strsize - 1));
        } else {
          vs.ints[in.imm] = lang::narrow(r[in.a], vi.type);
        }
        break;
      }
      case Op::Tclr:
        ctx.tuple.clear();
        break;
      case Op::Tpush:
        push_tuple(ctx.tuple, r[in.a], in.imm != 0, ctx.strsize);
        break;
      case Op::Ldd: {
        int64_t v = ctx.host->load_dyn(in.imm, ctx.tuple);
        if (mod.dynvars[in.imm].type.is_string()) {
          const char* s = ctx.scratch->copy(as_str(v), ctx.strsize - 1);
          if (s == nullptr) return fault(Fault::OutOfScratch);
          v = from_str(s);
        }
        r[in.a] = v;
        break;
      }
      case Op::Std: {
        const VarInfo& vi = mod.dynvars[in.imm];
        ctx.host->store_dyn(in.imm, ctx.tuple,
                            vi.type.is_string() ? r[in.a] : lang::narrow(r[in.a], vi.type));
        break;
      }
      case Op::Call: {
        const auto subr = static_cast<Subr>(in.imm);
        Fault f = call_subr(subr, &r[in.b], r[in.a], ctx);
        if (f != Fault::None) {
          // The address a read could not reach: the first argument (inet_ntop's second).
          if (f == Fault::BadAddress &&
              (subr == Subr::Copyinstr1 || subr == Subr::Copyinstr2 || subr == Subr::Copyin ||
               subr == Subr::Copyinto || subr == Subr::Memstr || subr == Subr::Bcopy ||
               subr == Subr::InetNtoa || subr == Subr::InetNtoa6))
            res.fault_addr = static_cast<uint64_t>(r[in.b]);
          if (f == Fault::BadAddress && subr == Subr::InetNtop)
            res.fault_addr = static_cast<uint64_t>(r[in.b + 1]);
          return fault(f);
        }
        break;
      }
      case Op::Act: {
        Fault f = ctx.host->action(in.imm, &r[in.b]);
        // tracemem() of an address outside D memory: its first argument.
        if (f == Fault::BadAddress) res.fault_addr = static_cast<uint64_t>(r[in.b]);
        if (f != Fault::None) return fault(f);
        break;
      }
      case Op::Agg:
        ctx.host->aggregate(in.imm, ctx.tuple, r[in.b], r[in.c]);
        break;
      case Op::Ldf: {
        Fault f = load_field(mod.fields[in.imm], ctx, r[in.a]);
        if (f != Fault::None) return fault(f);
        break;
      }
      case Op::Ldm:
      case Op::Stm: {
        const uint32_t size = in.imm & 0xf;
        uint8_t* p = ctx.memory ? ctx.memory->at(static_cast<uint64_t>(r[in.b]), size) : nullptr;
        if (p == nullptr) {
          res.fault_addr = static_cast<uint64_t>(r[in.b]);
          return fault(Fault::BadAddress);
        }
        if (in.op == Op::Stm) {
          const uint64_t v = static_cast<uint64_t>(r[in.a]);
          std::memcpy(p, &v, size);  // little-endian: the low bytes
        } else {
          uint64_t v = 0;
          std::memcpy(&v, p, size);
          r[in.a] =
              lang::narrow(static_cast<int64_t>(v),
                           lang::Type::int_of(static_cast<uint8_t>(size), (in.imm & 0x10) != 0));
        }
        break;
      }
    }
    ++pc;
  }
  return res;
}

}  // namespace vtrace::bytecode
