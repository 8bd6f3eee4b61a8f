#include "bytecode/verifier.h"

#include <array>
#include <optional>
#include <string>

namespace vtrace::bytecode {

namespace {

using lang::Kind;

// What the verifier knows about a register at one point of the program.
enum class RegType : uint8_t { Unset, Int, Str };

RegType reg_type_of(Kind k) {
  return k == Kind::String ? RegType::Str : RegType::Int;
}

struct State {
  std::array<RegType, kMaxRegs> regs{};
  std::vector<Kind> tuple;
  bool tuple_known = true;  // false where paths with different tuples meet
};

void merge_into(std::optional<State>& into, const State& from) {
  if (!into) {
    into = from;
    return;
  }
  for (int i = 0; i < kMaxRegs; ++i)
    if (into->regs[i] != from.regs[i]) into->regs[i] = RegType::Unset;
  if (!from.tuple_known || into->tuple != from.tuple) into->tuple_known = false;
}

const std::array<SubrSig, static_cast<size_t>(Subr::Count_)>& subr_table() {
  static const std::array<SubrSig, static_cast<size_t>(Subr::Count_)> table = {{
      {"strlen", Kind::Int, {Kind::String}},
      {"strjoin", Kind::String, {Kind::String, Kind::String}},
      {"substr", Kind::String, {Kind::String, Kind::Int}},
      {"substr", Kind::String, {Kind::String, Kind::Int, Kind::Int}},
      {"index", Kind::Int, {Kind::String, Kind::String}},
      {"index", Kind::Int, {Kind::String, Kind::String, Kind::Int}},
      {"rindex", Kind::Int, {Kind::String, Kind::String}},
      {"rindex", Kind::Int, {Kind::String, Kind::String, Kind::Int}},
      {"strstr", Kind::String, {Kind::String, Kind::String}},
      {"lltostr", Kind::String, {Kind::Int}},
      {"lltostr", Kind::String, {Kind::Int, Kind::Int}},
      {"basename", Kind::String, {Kind::String}},
      {"dirname", Kind::String, {Kind::String}},
      {"speculation", Kind::Int, {}},
      {"rand", Kind::Int, {}},
      {"toupper", Kind::String, {Kind::String}},
      {"tolower", Kind::String, {Kind::String}},
      {"strtoll", Kind::Int, {Kind::String}},
      {"copyinstr", Kind::String, {Kind::Int}},
      {"copyinstr", Kind::String, {Kind::Int, Kind::Int}},
      {"strchr", Kind::String, {Kind::String, Kind::Int}},
      {"strrchr", Kind::String, {Kind::String, Kind::Int}},
      {"stack", Kind::Int, {}},
      {"stack", Kind::Int, {Kind::Int}},
      {"ustack", Kind::Int, {}},
      {"ustack", Kind::Int, {Kind::Int}},
      {"func", Kind::String, {Kind::Int}},
      {"sym", Kind::String, {Kind::Int}},
      {"mod", Kind::String, {Kind::Int}},
      {"ufunc", Kind::String, {Kind::Int}},
      {"usym", Kind::String, {Kind::Int}},
      {"umod", Kind::String, {Kind::Int}},
      {"uaddr", Kind::String, {Kind::Int}},
      {"alloca", Kind::Int, {Kind::Int}},
      {"bcopy", Kind::Int, {Kind::Int, Kind::Int, Kind::Int}},
      {"bcopy", Kind::Int, {Kind::String, Kind::Int, Kind::Int}},
      {"copyin", Kind::Int, {Kind::Int, Kind::Int}},
      {"copyinto", Kind::Int, {Kind::Int, Kind::Int, Kind::Int}},
      {"stringof", Kind::String, {Kind::Int, Kind::Int}},
      {"(char *)", Kind::Int, {Kind::String}},
      {"[]", Kind::Int, {Kind::String, Kind::Int}},
      {"strtok", Kind::String, {Kind::String, Kind::String}},
      {"strtok", Kind::String, {Kind::String}},
      {"htons", Kind::Int, {Kind::Int}},
      {"htonl", Kind::Int, {Kind::Int}},
      {"htonll", Kind::Int, {Kind::Int}},
      {"inet_ntoa", Kind::String, {Kind::Int}},
      {"inet_ntoa6", Kind::String, {Kind::Int}},
      {"inet_ntop", Kind::String, {Kind::Int, Kind::Int}},
  }};
  return table;
}

class Verifier {
 public:
  Verifier(const Module& m, const ClauseCode& c) : mod_(m), clause_(c) {}

  std::string run() {
    const uint32_t n = static_cast<uint32_t>(clause_.code.size());
    if (clause_.nregs > kMaxRegs) return "too many registers";
    if (clause_.predicate_end > n) return "predicate end outside the program";
    pending_.assign(n + 1, std::nullopt);
    std::optional<State> cur = State{};
    for (pc_ = 0; pc_ < n; ++pc_) {
      if (pending_[pc_]) merge_into(cur, *pending_[pc_]);
      if (!cur) continue;  // unreachable
      std::string err = step(clause_.code[pc_], cur);
      if (!err.empty()) return "offset " + std::to_string(pc_) + ": " + err;
    }
    return "";
  }

 private:
  std::string reg_ok(uint8_t r) const {
    return r < clause_.nregs ? "" : "register %r" + std::to_string(r) + " out of range";
  }

  std::string need(const State& s, uint8_t r, RegType t) const {
    std::string e = reg_ok(r);
    if (!e.empty()) return e;
    if (s.regs[r] == RegType::Unset) return "read of unset register %r" + std::to_string(r);
    if (t != RegType::Unset && s.regs[r] != t)
      return std::string("register %r") + std::to_string(r) +
             (t == RegType::Int ? " is not an integer" : " is not a string");
    return "";
  }

  std::string set(State& s, uint8_t r, RegType t) const {
    std::string e = reg_ok(r);
    if (e.empty()) s.regs[r] = t;
    return e;
  }

  std::string jump(const State& s, uint32_t imm) {
    uint64_t target = uint64_t{pc_} + 1 + imm;
    if (target > clause_.code.size()) return "jump past the end of the program";
    merge_into(pending_[target], s);
    return "";
  }

  std::string tuple_matches(const State& s, const std::vector<lang::Type>& keys) const {
    if (!s.tuple_known) return "tuple differs between paths";
    if (s.tuple.size() != keys.size()) return "tuple has the wrong number of keys";
    for (size_t i = 0; i < keys.size(); ++i)
      if (s.tuple[i] != keys[i].kind)
        return "tuple key " + std::to_string(i) + " has the wrong type";
    return "";
  }

  std::string args_match(const State& s, uint8_t first, uint8_t count,
                         const std::vector<Kind>& kinds) const {
    if (count != kinds.size()) return "wrong number of arguments";
    if (uint32_t{first} + count > clause_.nregs) return "arguments out of the register file";
    for (uint8_t i = 0; i < count; ++i) {
      std::string e = need(s, static_cast<uint8_t>(first + i), reg_type_of(kinds[i]));
      if (!e.empty()) return e;
    }
    return "";
  }

  std::string step(const Insn& in, std::optional<State>& cur) {
    State& s = *cur;
    std::string e;
    auto binary = [&](RegType operand) {
      if (!(e = need(s, in.b, operand)).empty()) return e;
      if (!(e = need(s, in.c, operand)).empty()) return e;
      return set(s, in.a, RegType::Int);
    };
    switch (in.op) {
      case Op::Ret:
        cur.reset();
        return "";
      case Op::Mov:
        if (!(e = need(s, in.b, RegType::Unset)).empty()) return e;
        return set(s, in.a, s.regs[in.b]);
      case Op::Ldi:
        if (in.imm >= mod_.consts.size()) return "constant index out of range";
        return set(s, in.a, RegType::Int);
      case Op::Lds:
        if (in.imm >= mod_.strings.size()) return "string index out of range";
        return set(s, in.a, RegType::Str);
      case Op::Add:
      case Op::Sub:
      case Op::Mul:
      case Op::Sdiv:
      case Op::Udiv:
      case Op::Srem:
      case Op::Urem:
      case Op::And:
      case Op::Or:
      case Op::Xor:
      case Op::Shl:
      case Op::Lsr:
      case Op::Asr:
      case Op::Eq:
      case Op::Ne:
      case Op::Slt:
      case Op::Sle:
      case Op::Ult:
      case Op::Ule:
        return binary(RegType::Int);
      case Op::Scmp:
        return binary(RegType::Str);
      case Op::Neg:
      case Op::Not:
      case Op::LNot:
        if (!(e = need(s, in.b, RegType::Int)).empty()) return e;
        return set(s, in.a, RegType::Int);
      case Op::Narrow: {
        uint32_t size = in.imm & 0xf;
        if ((in.imm & ~0x1fu) != 0 || (size != 1 && size != 2 && size != 4 && size != 8))
          return "bad integer type";
        if (!(e = need(s, in.b, RegType::Int)).empty()) return e;
        return set(s, in.a, RegType::Int);
      }
      case Op::Jmp: {
        e = jump(s, in.imm);
        cur.reset();
        return e;
      }
      case Op::Jz:
      case Op::Jnz:
        if (!(e = need(s, in.a, RegType::Int)).empty()) return e;
        return jump(s, in.imm);
      case Op::Ldb: {
        if (in.imm >= static_cast<uint32_t>(Builtin::Count_)) return "unknown built-in variable";
        auto b = static_cast<Builtin>(in.imm);
        return set(s, in.a, builtin_is_string(b) ? RegType::Str : RegType::Int);
      }
      case Op::Ldg:
      case Op::Ldl:
      case Op::Stg:
      case Op::Stl: {
        const auto& vars = (in.op == Op::Ldg || in.op == Op::Stg) ? mod_.globals : mod_.locals;
        if (in.imm >= vars.size()) return "variable index out of range";
        RegType t = reg_type_of(vars[in.imm].type.kind);
        if (in.op == Op::Ldg || in.op == Op::Ldl) return set(s, in.a, t);
        return need(s, in.a, t);
      }
      case Op::Tclr:
        s.tuple.clear();
        s.tuple_known = true;
        return "";
      case Op::Tpush:
        if (in.imm > 1) return "bad tuple element type";
        if (!(e = need(s, in.a, in.imm ? RegType::Str : RegType::Int)).empty()) return e;
        if (s.tuple.size() >= 16) return "tuple too long";
        s.tuple.push_back(in.imm ? Kind::String : Kind::Int);
        return "";
      case Op::Ldd:
      case Op::Std: {
        if (in.imm >= mod_.dynvars.size()) return "dynamic variable index out of range";
        const VarInfo& v = mod_.dynvars[in.imm];
        if (!(e = tuple_matches(s, v.key_types)).empty()) return e;
        if (in.op == Op::Ldd) return set(s, in.a, reg_type_of(v.type.kind));
        return need(s, in.a, reg_type_of(v.type.kind));
      }
      case Op::Call: {
        if (in.imm >= static_cast<uint32_t>(Subr::Count_)) return "unknown subroutine";
        const SubrSig& sig = subr_table()[in.imm];
        if (!(e = args_match(s, in.b, in.c, sig.args)).empty()) return e;
        return set(s, in.a, reg_type_of(sig.result));
      }
      case Op::Act: {
        if (in.imm >= mod_.actions.size()) return "action index out of range";
        std::vector<Kind> kinds;
        for (const auto& t : mod_.actions[in.imm].arg_types) kinds.push_back(t.kind);
        return args_match(s, in.b, in.c, kinds);
      }
      case Op::Ldf: {
        if (in.imm >= mod_.fields.size()) return "field index out of range";
        const FieldRef& f = mod_.fields[in.imm];
        if (f.kind == FieldRef::Int && f.size != 1 && f.size != 2 && f.size != 4 && f.size != 8)
          return "bad field size";
        if (f.kind > FieldRef::RelLoc) return "bad field kind";
        return set(s, in.a, f.is_string() ? RegType::Str : RegType::Int);
      }
      case Op::Ldm:
      case Op::Stm: {
        uint32_t size = in.imm & 0xf;
        if ((in.imm & ~0x1fu) != 0 || (size != 1 && size != 2 && size != 4 && size != 8))
          return "bad integer type";
        if (!(e = need(s, in.b, RegType::Int)).empty()) return e;
        if (in.op == Op::Ldm) return set(s, in.a, RegType::Int);
        return need(s, in.a, RegType::Int);
      }
      case Op::Agg:
        if (in.imm >= mod_.aggs.size()) return "aggregation index out of range";
        if (!(e = tuple_matches(s, mod_.aggs[in.imm].key_types)).empty()) return e;
        if (!(e = need(s, in.b, RegType::Int)).empty()) return e;
        return need(s, in.c, RegType::Int);
    }
    return "unknown opcode " + std::to_string(static_cast<int>(in.op));
  }

  const Module& mod_;
  const ClauseCode& clause_;
  std::vector<std::optional<State>> pending_;
  uint32_t pc_ = 0;
};

}  // namespace

const SubrSig& subr_signature(Subr s) {
  return subr_table()[static_cast<size_t>(s)];
}

std::string verify(const Module& module, const ClauseCode& clause) {
  return Verifier(module, clause).run();
}

}  // namespace vtrace::bytecode
