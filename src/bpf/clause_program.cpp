#include "bpf/clause_program.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "bpf/insn.h"
#include "bytecode/agg_bins.h"

namespace vtrace::bpf {

namespace {

using namespace insn;
using bytecode::Builtin;
using bytecode::Op;

constexpr int kMaxKeys = 8;
constexpr int kCommLen = 16;  // an execname key: bpf_get_current_comm()'s NUL-padded bytes

// What a string register holds at the probe: nothing known, execname, or string constant N.
constexpr int kNoStr = -2;
constexpr int kComm = -1;

constexpr int kStackBytes = 512;

bool is_jump(Op op) {
  return op == Op::Jmp || op == Op::Jz || op == Op::Jnz;
}

// The instructions a jump lands on: where two paths meet.
std::vector<bool> merge_points(const bytecode::ClauseCode& clause) {
  std::vector<bool> m(clause.code.size() + 1, false);
  for (size_t pc = 0; pc < clause.code.size(); ++pc) {
    const bytecode::Insn& in = clause.code[pc];
    if (is_jump(in.op) && pc + 1 + in.imm <= clause.code.size()) m[pc + 1 + in.imm] = true;
  }
  return m;
}

// Per instruction: which this-> variables are written on every path that reaches it (jumps only
// go forward, so one pass in order sees every predecessor first).
std::vector<std::vector<bool>> locals_written(const bytecode::ClauseCode& clause, size_t nlocals) {
  const size_t n = clause.code.size();
  std::vector<std::vector<bool>> in(n + 1);  // empty: not reached yet
  in[0].assign(nlocals, false);
  auto flow = [&](size_t to, const std::vector<bool>& out) {
    if (to > n) return;
    if (in[to].empty()) {
      in[to] = out;
      return;
    }
    for (size_t v = 0; v < nlocals; ++v) in[to][v] = in[to][v] && out[v];
  };
  for (size_t pc = 0; pc < n; ++pc) {
    if (in[pc].empty()) continue;  // unreachable
    const bytecode::Insn& i = clause.code[pc];
    std::vector<bool> out = in[pc];
    if (i.op == Op::Stl && i.imm < nlocals) out[i.imm] = true;
    if (is_jump(i.op)) flow(pc + 1 + i.imm, out);
    if (i.op != Op::Ret && i.op != Op::Jmp) flow(pc + 1, out);
  }
  return in;
}

// BPF_ALU64 op of a binary bytecode op, or 0xff.
uint8_t alu_of(Op op) {
  switch (op) {
    case Op::Add:
      return BPF_ADD;
    case Op::Sub:
      return BPF_SUB;
    case Op::Mul:
      return BPF_MUL;
    case Op::And:
      return BPF_AND;
    case Op::Or:
      return BPF_OR;
    case Op::Xor:
      return BPF_XOR;
    case Op::Shl:
      return BPF_LSH;
    case Op::Lsr:
      return BPF_RSH;
    case Op::Asr:
      return BPF_ARSH;
    default:
      return 0xff;
  }
}

// BPF_JMP op that is true when the comparison holds, or 0xff.
uint8_t cmp_of(Op op) {
  switch (op) {
    case Op::Eq:
      return BPF_JEQ;
    case Op::Ne:
      return BPF_JNE;
    case Op::Slt:
      return BPF_JSLT;
    case Op::Sle:
      return BPF_JSLE;
    case Op::Ult:
      return BPF_JLT;
    case Op::Ule:
      return BPF_JLE;
    default:
      return 0xff;
  }
}

bool builtin_ok(Builtin b, const ClauseTarget& t, std::string& why) {
  if (b >= Builtin::Arg0 && b <= Builtin::Arg9) {
    auto f = t.arg(static_cast<int>(b) - static_cast<int>(Builtin::Arg0));
    if (f && f->kind == ExprOp::Const) return true;
    if (!f || f->kind != ExprOp::Field) {
      why = "an argument only the host computes";
      return false;
    }
    // A tracepoint record's first 8 bytes are not the program's to read; a USDT site's arguments
    // are on the program's stack from offset 0.
    if (f->offset < (t.usdt ? 0u : 8u) || f->offset % f->size != 0) {
      why = "an argument at an offset the kernel does not let a program read";
      return false;
    }
    return true;
  }
  switch (b) {
    case Builtin::Pid:
    case Builtin::Tid:
    case Builtin::Uid:
    case Builtin::Gid:
      if (!t.current_thread) why = "the thread's identity (the probe runs in another thread)";
      return t.current_thread;
    case Builtin::Cpu:
    case Builtin::Timestamp:
    case Builtin::Id:
      return true;
    case Builtin::Errno:
      if (!t.errno_from_arg0) why = "errno outside a syscall's return";
      return t.errno_from_arg0 && builtin_ok(Builtin::Arg0, t, why);
    default:
      why = "a built-in variable only the host has";
      return false;
  }
}

int64_t lquantize_levels(const bytecode::AggInfo& a) {
  return bytecode::lquantize_levels(a.base, a.limit, a.step);
}

bytecode::Llquantize llquantize_of(const bytecode::AggInfo& a) {
  return bytecode::Llquantize(a.factor, a.low, a.high, a.nsteps);
}

// A string register's constant: the module's (index < mod.strings.size()) or, after them, the
// probe's probeprov, probemod, probefunc and probename.
const std::string& string_constant(const bytecode::Module& mod, const ClauseTarget& t, int i) {
  const size_t n = mod.strings.size();
  return static_cast<size_t>(i) < n ? mod.strings[i] : t.names.at(static_cast<size_t>(i) - n);
}

// The string constant a probe-name built-in is, or kNoStr for other built-ins.
int probe_name_constant(const bytecode::Module& mod, Builtin b) {
  if (b < Builtin::Probeprov || b > Builtin::Probename) return kNoStr;
  return static_cast<int>(mod.strings.size()) + static_cast<int>(b) -
         static_cast<int>(Builtin::Probeprov);
}

using bytecode::kQuantizeBuckets;
using bytecode::kQuantizeZero;
constexpr int64_t kMaxKernelBins = 1024;  // a per-CPU map value is at most 32 KiB

bool agg_func_ok(const bytecode::AggInfo& a) {
  using F = bytecode::AggFunc;
  if (a.func == F::Lquantize)
    return lquantize_levels(a) + 2 <= kMaxKernelBins && a.step > 0 && a.step <= INT32_MAX;
  if (a.func == F::Llquantize) return llquantize_of(a).nbins() <= kMaxKernelBins;
  return a.func == F::Count || a.func == F::Sum || a.func == F::Avg || a.func == F::Min ||
         a.func == F::Max || a.func == F::Stddev || a.func == F::Quantize;
}

class Emitter {
 public:
  Emitter(const bytecode::Module& m, const bytecode::ClauseCode& c, const ClauseTarget& t,
          const ClauseMaps& maps)
      : mod_(m), clause_(c), target_(t), maps_(maps) {}

  bool run(std::vector<bpf_insn>& out, std::string& err) {
    const auto& code = clause_.code;
    key_base_ = -8 * static_cast<int>(clause_.nregs) - kMaxKeys * kCommLen;
    val_off_ = key_base_ - 16;
    comm_off_ = val_off_ - kCommLen;
    args_off_ = comm_off_ - (target_.usdt ? static_cast<int>(kUsdtDataSize) : 0);
    locals_off_ = args_off_ - 8 * static_cast<int>(mod_.locals.size());
    merge_ = merge_points(clause_);
    str_.assign(bytecode::kMaxRegs, kNoStr);
    if (-locals_off_ > kStackBytes) {
      err = "the clause needs more than the 512 bytes of stack a BPF program has";
      return false;
    }
    at_.assign(code.size() + 1, 0);
    if (target_.syscall) {
      if (!syscall_record(err)) return false;
    } else if (target_.usdt) {
      usdt_record();
    } else {
      emit(mov64(R6, R1));
    }
    for (size_t pc = 0; pc < code.size(); ++pc) {
      at_[pc] = out_.size();
      if (merge_[pc]) std::fill(str_.begin(), str_.end(), kNoStr);
      if (!one(code[pc], pc, err)) return false;
    }
    at_[code.size()] = out_.size();
    // A jump past the last instruction ends the clause too (else the verifier refuses the
    // unreachable epilogue).
    for (const auto& f : fixups_)
      if (f.second == code.size()) {
        emit(mov64(R0, 0));
        emit(exit_insn());
        break;
      }
    for (const auto& [at, to] : fixups_) {
      const int64_t off = static_cast<int64_t>(at_[to]) - static_cast<int64_t>(at) - 1;
      if (off < INT16_MIN || off > INT16_MAX) {
        err = "the clause is too long for a BPF jump";
        return false;
      }
      out_[at].off = static_cast<int16_t>(off);
    }
    out = std::move(out_);
    return true;
  }

 private:
  static int16_t reg(uint8_t r) { return static_cast<int16_t>(-8 * (r + 1)); }
  // r6 = the syscall's tracepoint record, rebuilt in the per-CPU data map (see ClauseTarget).
  bool syscall_record(std::string& err) {
    const ClauseTarget::Syscall& sc = *target_.syscall;
    if (sc.data_fd < 0 || sc.record_size > kSyscallDataSize) {
      err = "a syscall clause program needs its data map (records of at most " +
            std::to_string(kSyscallDataSize) + " bytes)";
      return false;
    }
    emit(mov64(R7, R1));
    emit(st(4, R10, -4, 0));  // key 0, in a slot the clause's registers overwrite later
    emit2(ld_map_fd(R1, sc.data_fd));
    emit(mov64(R2, R10));
    emit(alu64(BPF_ADD, R2, -4));
    emit(call(BPF_FUNC_map_lookup_elem));
    emit(jmp(BPF_JNE, R0, 0, 2));
    emit(mov64(R0, 0));
    emit(exit_insn());
    emit(mov64(R6, R0));
    for (const bpf_insn& i : emit_syscall_record(sc.side, sc.layout, R7, R6, 0, sc.record_size))
      emit(i);
    return true;
  }
  // r6 = the USDT site's arguments, evaluated from the pt_regs in ctx into the stack, after the
  // process check (a program that is not for this process returns at once).
  void usdt_record() {
    const ClauseTarget::Usdt& u = *target_.usdt;
    emit(mov64(R7, R1));
    if (u.pid != 0)  // its 16 bytes of scratch lie in the registers' slots, written later
      for (const bpf_insn& i : emit_process_check(u.pid, u.layout, -8)) emit(i);
    emit(mov64(R6, R10));
    emit(alu64(BPF_ADD, R6, args_off_));
    // Only the arguments the clause reads are evaluated (a memory operand costs a helper call).
    std::vector<RegArg> args(u.args.size());
    for (const bytecode::Insn& in : clause_.code) {
      const auto b = static_cast<Builtin>(in.imm);
      const size_t n = static_cast<size_t>(b) - static_cast<size_t>(Builtin::Arg0);
      if (in.op == Op::Ldb && b >= Builtin::Arg0 && b <= Builtin::Arg9 && n < args.size())
        args[n] = u.args[n];
    }
    for (const bpf_insn& i : emit_usdt_args(args, R7, R6, 0)) emit(i);
  }
  void emit(bpf_insn i) { out_.push_back(i); }
  void emit2(const std::array<bpf_insn, 2>& i) {
    out_.push_back(i[0]);
    out_.push_back(i[1]);
  }
  void load(Reg dst, uint8_t r) { emit(ldx(8, dst, R10, reg(r))); }
  void store(uint8_t r, Reg src) { emit(stx(8, R10, reg(r), src)); }
  // Sign- or zero-extends the low `size` bytes of dst.
  void extend(Reg dst, unsigned size, bool is_signed) {
    if (size >= 8) return;
    const int32_t shift = 64 - 8 * static_cast<int32_t>(size);
    emit(alu64(BPF_LSH, dst, shift));
    emit(alu64(is_signed ? BPF_ARSH : BPF_RSH, dst, shift));
  }
  // A jump to bytecode pc `to`, patched once every instruction has its place.
  void jump_to(bpf_insn j, size_t to) {
    fixups_.push_back({out_.size(), to});
    emit(j);
  }

  bool builtin(Builtin b, uint8_t a, std::string& err) {
    if (b == Builtin::Errno) {  // -ret for -4095 <= ret <= -1, as the host computes it
      if (!builtin(Builtin::Arg0, a, err)) return false;
      load(R0, a);
      emit(jmp(BPF_JSLT, R0, -4095, 2));
      emit(jmp(BPF_JSGT, R0, -1, 1));
      emit(ja(1));
      emit(mov64(R0, 0));
      emit(neg64(R0));  // (0 stays 0)
      store(a, R0);
      return true;
    }
    if (b >= Builtin::Arg0 && b <= Builtin::Arg9) {
      auto f = target_.arg(static_cast<int>(b) - static_cast<int>(Builtin::Arg0));
      if (!f) {
        err = "argument without a field";
        return false;
      }
      if (f->kind == ExprOp::Const) {
        emit2(ld_imm64(R0, static_cast<uint64_t>(f->value)));
      } else {
        emit(ldx(f->size, R0, R6, static_cast<int16_t>(f->offset)));
        extend(R0, f->size, f->is_signed);
      }
    } else {
      switch (b) {
        case Builtin::Pid:
          emit(call(BPF_FUNC_get_current_pid_tgid));
          emit(alu64(BPF_RSH, R0, 32));
          break;
        case Builtin::Tid:
          emit(call(BPF_FUNC_get_current_pid_tgid));
          emit(mov32(R0, R0));
          break;
        case Builtin::Uid:
          emit(call(BPF_FUNC_get_current_uid_gid));
          emit(mov32(R0, R0));
          break;
        case Builtin::Gid:
          emit(call(BPF_FUNC_get_current_uid_gid));
          emit(alu64(BPF_RSH, R0, 32));
          break;
        case Builtin::Cpu:
          emit(call(BPF_FUNC_get_smp_processor_id));
          emit(mov32(R0, R0));
          break;
        case Builtin::Timestamp:
          emit(call(BPF_FUNC_ktime_get_ns));
          break;
        case Builtin::Id:
          emit2(ld_imm64(R0, target_.probe_id));
          break;
        default:
          err = "built-in not available at the probe";
          return false;
      }
    }
    store(a, R0);
    return true;
  }

  bool aggregate(const bytecode::Insn& in, std::string& err) {
    if (in.imm >= mod_.aggs.size() || in.imm >= maps_.aggs.size() || maps_.aggs[in.imm] < 0) {
      err = "aggregation without a map";
      return false;
    }
    const bytecode::AggInfo& agg = mod_.aggs[in.imm];
    if (key_bytes_ == 0) emit(st(8, R10, static_cast<int16_t>(key_base_), 0));
    auto lookup = [&] {
      emit2(ld_map_fd(R1, maps_.aggs[in.imm]));
      emit(mov64(R2, R10));
      emit(alu64(BPF_ADD, R2, key_base_));
      emit(call(BPF_FUNC_map_lookup_elem));
    };
    lookup();
    const size_t have = out_.size();
    emit(jmp(BPF_JNE, R0, 0, 0));  // patched: to the update (the common case: one lookup)
    // A new key starts as zeros (min/max: "not seen yet"), copied from the zeros map: a
    // quantize value is larger than the stack.
    emit(st(4, R10, static_cast<int16_t>(val_off_), 0));
    emit2(ld_map_fd(R1, maps_.zeros));
    emit(mov64(R2, R10));
    emit(alu64(BPF_ADD, R2, val_off_));
    emit(call(BPF_FUNC_map_lookup_elem));
    const size_t no_zeros = out_.size();
    emit(jmp(BPF_JEQ, R0, 0, 0));  // patched: to the drop (cannot happen: an array)
    emit(mov64(R3, R0));
    emit2(ld_map_fd(R1, maps_.aggs[in.imm]));
    emit(mov64(R2, R10));
    emit(alu64(BPF_ADD, R2, key_base_));
    emit(mov64(R4, BPF_NOEXIST));
    emit(call(BPF_FUNC_map_update_elem));
    lookup();
    const size_t full = out_.size();
    emit(jmp(BPF_JEQ, R0, 0, 0));  // patched: to the drop
    out_[have].off = static_cast<int16_t>(out_.size() - have - 1);
    load(R1, in.b);  // the value
    switch (agg.func) {
      case bytecode::AggFunc::Count:
        emit(mov64(R1, 1));
        emit(atomic_add64(R0, 0, R1));
        break;
      case bytecode::AggFunc::Sum:
        emit(atomic_add64(R0, 0, R1));
        break;
      case bytecode::AggFunc::Avg:
        emit(atomic_add64(R0, 8, R1));
        emit(mov64(R1, 1));
        emit(atomic_add64(R0, 0, R1));
        break;
      case bytecode::AggFunc::Min:
      case bytecode::AggFunc::Max:
        // [value, seen]: a key another CPU created starts here as zeros, not as a value.
        emit(ldx(8, R2, R0, 8));
        emit(jmp(BPF_JEQ, R2, 0, 2));
        emit(ldx(8, R2, R0, 0));
        emit(jmp(agg.func == bytecode::AggFunc::Min ? BPF_JSGE : BPF_JSLE, R1, R2, 2));
        emit(stx(8, R0, 0, R1));
        emit(st(8, R0, 8, 1));
        break;
      case bytecode::AggFunc::Quantize:
        quantize_bucket();
        add_to_bin(in.c, kQuantizeBuckets - 1);
        break;
      case bytecode::AggFunc::Lquantize:
        lquantize_bucket(agg);
        add_to_bin(in.c, static_cast<int32_t>(lquantize_levels(agg) + 1));
        break;
      case bytecode::AggFunc::Llquantize: {
        const bytecode::Llquantize q = llquantize_of(agg);
        llquantize_bucket(q);
        add_to_bin(in.c, static_cast<int32_t>(q.nbins() - 1));
        break;
      }
      case bytecode::AggFunc::Stddev:
        stddev_update();
        break;
      default:
        err = "aggregating function not available at the probe";
        return false;
    }
    emit(ja(0));  // patched: over the drop
    const size_t over = out_.size() - 1;
    out_[full].off = static_cast<int16_t>(out_.size() - full - 1);
    out_[no_zeros].off = static_cast<int16_t>(out_.size() - no_zeros - 1);
    count_drop(kAggDropsKey);  // a full map: DTrace's "aggregation drops"
    out_[over].off = static_cast<int16_t>(out_.size() - over - 1);
    return true;
  }

  // Adds one to drops counter `key` of this CPU.
  void count_drop(uint32_t key) {
    emit(st(4, R10, static_cast<int16_t>(val_off_), static_cast<int32_t>(key)));
    emit2(ld_map_fd(R1, maps_.drops));
    emit(mov64(R2, R10));
    emit(alu64(BPF_ADD, R2, val_off_));
    emit(call(BPF_FUNC_map_lookup_elem));
    emit(jmp(BPF_JEQ, R0, 0, 2));
    emit(mov64(R1, 1));
    emit(atomic_add64(R0, 0, R1));
  }

  // self->VAR: its map is keyed by the thread id, at val_off_ (8 bytes); the value to store goes
  // at val_off_ + 8. A missing key reads 0, as in the engine.
  bool thread_var(const bytecode::Insn& in, std::string& err) {
    if (in.imm >= mod_.dynvars.size() || in.imm >= maps_.vars.size() || maps_.vars[in.imm] < 0) {
      err = "self-> variable without a map";
      return false;
    }
    const int fd = maps_.vars[in.imm];
    emit(call(BPF_FUNC_get_current_pid_tgid));
    emit(mov32(R0, R0));
    emit(stx(8, R10, static_cast<int16_t>(val_off_), R0));
    if (in.op == Op::Ldd) {
      emit2(ld_map_fd(R1, fd));
      emit(mov64(R2, R10));
      emit(alu64(BPF_ADD, R2, val_off_));
      emit(call(BPF_FUNC_map_lookup_elem));
      emit(mov64(R1, 0));
      emit(jmp(BPF_JEQ, R0, 0, 1));
      emit(ldx(8, R1, R0, 0));
      store(in.a, R1);
      return true;
    }
    const lang::Type& t = mod_.dynvars[in.imm].type;
    load(R0, in.a);
    extend(R0, t.size, t.is_signed);  // the variable's type, as the engine narrows it
    emit(stx(8, R10, static_cast<int16_t>(val_off_ + 8), R0));
    emit2(ld_map_fd(R1, fd));
    emit(mov64(R2, R10));
    emit(alu64(BPF_ADD, R2, val_off_));
    const size_t zero = out_.size();
    emit(jmp(BPF_JEQ, R0, 0, 0));  // patched: storing 0 frees it
    emit(mov64(R3, R10));
    emit(alu64(BPF_ADD, R3, val_off_ + 8));
    emit(mov64(R4, BPF_ANY));
    emit(call(BPF_FUNC_map_update_elem));
    const size_t stored = out_.size();
    emit(jmp(BPF_JSGE, R0, 0, 0));  // patched: done
    count_drop(kDynvarDropsKey);    // a full map: DTrace's "dynamic variable drops"
    const size_t over = out_.size();
    emit(ja(0));
    out_[zero].off = static_cast<int16_t>(out_.size() - zero - 1);
    emit(call(BPF_FUNC_map_delete_elem));
    out_[stored].off = static_cast<int16_t>(out_.size() - stored - 1);
    out_[over].off = static_cast<int16_t>(out_.size() - over - 1);
    return true;
  }

  // R2 = the bit length of R1 (0 for 0), without loops: halve the range six times.
  void bit_length() {
    emit(mov64(R2, 0));
    for (int32_t shift : {32, 16, 8, 4, 2, 1}) {
      emit(mov64(R3, R1));
      emit(alu64(BPF_RSH, R3, shift));
      emit(jmp(BPF_JEQ, R3, 0, 2));
      emit(mov64(R1, R3));
      emit(alu64(BPF_ADD, R2, shift));
    }
    emit(alu64(BPF_ADD, R2, R1));  // R1 is now 0 or 1
  }

  // R4 = quantize()'s bucket of the value in R1, as the engine's quantize_bucket().
  void quantize_bucket() {
    emit(mov64(R4, kQuantizeZero));
    const size_t zero = out_.size();
    emit(jmp(BPF_JEQ, R1, 0, 0));
    const size_t negative = out_.size();
    emit(jmp(BPF_JSLT, R1, 0, 0));
    bit_length();  // positive: zero + bit length, at most the last bucket
    emit(mov64(R4, R2));
    emit(alu64(BPF_ADD, R4, kQuantizeZero));
    const size_t done = out_.size();
    emit(ja(0));
    out_[negative].off = static_cast<int16_t>(out_.size() - negative - 1);
    emit(neg64(R1));  // |v| (INT64_MIN stays itself: as unsigned, 2^63)
    bit_length();     // floor(log2 |v|) = bit length - 1 = k; bucket zero - 1 - k, 0 if k >= 62
    emit(mov64(R4, kQuantizeZero));
    emit(alu64(BPF_SUB, R4, R2));
    emit(jmp(BPF_JSGE, R4, 0, 1));
    emit(mov64(R4, 0));
    emit(jmp(BPF_JSGT, R2, 62, 1));  // k = R2 - 1 >= 62
    emit(ja(1));
    emit(mov64(R4, 0));
    out_[zero].off = static_cast<int16_t>(out_.size() - zero - 1);
    out_[done].off = static_cast<int16_t>(out_.size() - done - 1);
  }

  // R4 = lquantize()'s bucket of the value in R1: 0 below base, level + 1, levels + 1 above.
  void lquantize_bucket(const bytecode::AggInfo& a) {
    const int64_t levels = lquantize_levels(a);
    emit(mov64(R4, 0));
    emit2(ld_imm64(R2, static_cast<uint64_t>(a.base)));
    const size_t below = out_.size();
    emit(jmp(BPF_JSLT, R1, R2, 0));
    emit(alu64(BPF_SUB, R1, R2));
    emit(alu64(BPF_DIV, R1, static_cast<int32_t>(a.step)));  // unsigned, as the engine's
    emit(mov64(R4, static_cast<int32_t>(levels + 1)));
    emit(jmp(BPF_JGE, R1, static_cast<int32_t>(levels), 2));
    emit(mov64(R4, R1));
    emit(alu64(BPF_ADD, R4, 1));
    out_[below].off = static_cast<int16_t>(out_.size() - below - 1);
  }

  // R4 = llquantize()'s bin of the value in R1, as Llquantize::bin() finds it: |value| through
  // the orders of magnitude, then mirrored below bin0 for a negative value. Clobbers R1-R3, R5.
  void llquantize_bucket(const bytecode::Llquantize& q) {
    std::vector<size_t> found;
    emit(mov64(R5, 0));  // 1 when negative
    emit(jmp(BPF_JSGE, R1, 0, 2));
    emit(neg64(R1));  // |v| (INT64_MIN stays itself: as unsigned, 2^63, past every limit)
    emit(mov64(R5, 1));
    emit(mov64(R4, static_cast<int32_t>(q.bin0)));
    emit2(ld_imm64(R2, static_cast<uint64_t>(q.first)));
    found.push_back(out_.size());
    emit(jmp(BPF_JLT, R1, R2, 0));  // unsigned
    for (const bytecode::Llquantize::Order& o : q.orders) {
      emit2(ld_imm64(R2, static_cast<uint64_t>(o.end)));
      const size_t next = out_.size();
      emit(jmp(BPF_JGE, R1, R2, 0));
      emit2(ld_imm64(R3, static_cast<uint64_t>(o.mul)));
      emit(alu64(BPF_MUL, R1, R3));
      emit2(ld_imm64(R3, static_cast<uint64_t>(o.div)));
      emit(alu64(BPF_DIV, R1, R3));  // unsigned, as Llquantize::bin()
      emit2(ld_imm64(R4, static_cast<uint64_t>(o.base)));
      emit(alu64(BPF_ADD, R4, R1));
      found.push_back(out_.size());
      emit(ja(0));
      out_[next].off = static_cast<int16_t>(out_.size() - next - 1);
    }
    emit(mov64(R4, static_cast<int32_t>(q.nbins() - 1)));  // at or past the limit
    for (size_t j : found) out_[j].off = static_cast<int16_t>(out_.size() - j - 1);
    emit(jmp(BPF_JEQ, R5, 0, 4));  // negative: 2 bin0 - bin
    emit(neg64(R4));
    emit(alu64(BPF_ADD, R4, static_cast<int32_t>(2 * q.bin0)));
    emit(jmp(BPF_JSGE, R4, 0, 1));
    emit(mov64(R4, 0));
  }

  // stddev's [count, sum, sum of squares (lo, hi)] += [1, R1, R1 * R1], the square 128 bits wide
  // as the engine keeps it: |v| = h 2^32 + l, v^2 = h^2 2^64 + h l 2^33 + l^2. A per-CPU value is
  // not shared, so the two halves need no atomic update.
  void stddev_update() {
    emit(mov64(R2, 1));
    emit(atomic_add64(R0, 0, R2));
    emit(atomic_add64(R0, 8, R1));
    emit(jmp(BPF_JSGE, R1, 0, 1));
    emit(neg64(R1));  // |v| (INT64_MIN stays itself: as unsigned, 2^63)
    emit(mov64(R2, R1));
    emit(alu64(BPF_RSH, R2, 32));  // h
    emit(mov32(R3, R1));           // l
    emit(mov64(R4, R3));
    emit(alu64(BPF_MUL, R4, R3));  // l^2
    emit(mov64(R5, R2));
    emit(alu64(BPF_MUL, R5, R3));  // h l
    emit(alu64(BPF_MUL, R2, R2));  // h^2: the high word
    emit(mov64(R3, R5));
    emit(alu64(BPF_LSH, R3, 33));
    emit(alu64(BPF_ADD, R3, R4));  // the low word
    emit(jmp(BPF_JGE, R3, R4, 1));
    emit(alu64(BPF_ADD, R2, 1));  // its carry
    emit(alu64(BPF_RSH, R5, 31));
    emit(alu64(BPF_ADD, R2, R5));
    emit(ldx(8, R4, R0, 16));
    emit(alu64(BPF_ADD, R4, R3));
    emit(stx(8, R0, 16, R4));
    emit(jmp(BPF_JGE, R4, R3, 1));
    emit(alu64(BPF_ADD, R2, 1));
    emit(ldx(8, R5, R0, 24));
    emit(alu64(BPF_ADD, R5, R2));
    emit(stx(8, R0, 24, R5));
  }

  // Adds the weight in register `weight` to bin R4 of the value R0 points to (R4 <= last).
  void add_to_bin(uint8_t weight, int32_t last) {
    emit(jmp(BPF_JLE, R4, last, 1));
    emit(mov64(R4, last));  // cannot happen; tells the verifier the bound
    emit(alu64(BPF_LSH, R4, 3));
    emit(alu64(BPF_ADD, R0, R4));
    load(R1, weight);
    emit(atomic_add64(R0, 0, R1));
  }

  // Scmp of execname and a constant (either order), as strncmp(): -1, 0 or 1 by the first byte
  // that differs, compared unsigned. execname has at most 15 bytes and a NUL, so 16 bytes of the
  // constant decide it.
  bool compare_strings(const bytecode::Insn& in, std::string& err) {
    const int b = str_[in.b], c = str_[in.c];
    str_[in.a] = kNoStr;
    if (b == kNoStr || c == kNoStr) {
      err = "a string comparison the probe cannot make";
      return false;
    }
    if (b != kComm && c != kComm) {  // two constants
      const int r = std::strcmp(constant(b).c_str(), constant(c).c_str());
      emit(mov64(R0, (r > 0) - (r < 0)));
      store(in.a, R0);
      return true;
    }
    if (b == kComm && c == kComm) {
      emit(mov64(R0, 0));
      store(in.a, R0);
      return true;
    }
    const std::string& k = constant(b == kComm ? c : b);
    emit(mov64(R1, R10));
    emit(alu64(BPF_ADD, R1, comm_off_));
    emit(mov64(R2, kCommLen));
    emit(call(BPF_FUNC_get_current_comm));
    std::vector<size_t> to_diff, to_equal;
    for (int i = 0; i < kCommLen; ++i) {
      const int32_t byte = i < static_cast<int>(k.size()) ? static_cast<uint8_t>(k[i]) : 0;
      emit(ldx(1, R1, R10, static_cast<int16_t>(comm_off_ + i)));
      emit(mov64(R2, byte));
      to_diff.push_back(out_.size());
      emit(jmp(BPF_JNE, R1, R2, 0));
      if (byte == 0) {  // both ended: equal
        to_equal.push_back(out_.size());
        emit(ja(0));
        break;
      }
    }
    // Not ended after 16 bytes cannot happen (execname ends by then); treat as equal.
    const size_t equal_at = out_.size();
    emit(mov64(R0, 0));
    const size_t done = out_.size();
    emit(ja(0));
    const size_t diff_at = out_.size();
    emit(mov64(R0, 1));
    emit(jmp(BPF_JGT, R1, R2, 1));  // execname's byte is the larger
    emit(mov64(R0, -1));
    if (b != kComm) emit(neg64(R0));  // constant first: the other way round
    for (size_t j : to_diff) out_[j].off = static_cast<int16_t>(diff_at - j - 1);
    for (size_t j : to_equal) out_[j].off = static_cast<int16_t>(equal_at - j - 1);
    out_[done].off = static_cast<int16_t>(out_.size() - done - 1);
    store(in.a, R0);
    return true;
  }

  const std::string& constant(int i) const { return string_constant(mod_, target_, i); }

  // Pushes the string key in register r: execname's bytes, a short constant's, or a longer
  // constant's number in ClauseMaps::strings (kernel_aggregation.h).
  bool push_string_key(uint8_t r, std::string& err) {
    const int16_t at = static_cast<int16_t>(key_base_ + key_bytes_);
    key_bytes_ += kCommLen;
    if (str_[r] == kComm) {
      emit(mov64(R1, R10));
      emit(alu64(BPF_ADD, R1, at));
      emit(mov64(R2, kCommLen));
      emit(call(BPF_FUNC_get_current_comm));
      return true;
    }
    if (str_[r] == kNoStr) {
      err = "a string key the probe does not have";
      return false;
    }
    const std::string& k = constant(str_[r]);
    if (k.size() < static_cast<size_t>(kCommLen)) {
      char bytes[kCommLen] = {};
      std::memcpy(bytes, k.data(), k.size());
      for (int i = 0; i < kCommLen; i += 4) {
        int32_t word;
        std::memcpy(&word, bytes + i, 4);
        emit(st(4, R10, static_cast<int16_t>(at + i), word));
      }
      return true;
    }
    if (maps_.strings == nullptr) {
      err = "no table for long string keys";
      return false;
    }
    emit(st(8, R10, at, kKeyStringTag << 8));
    emit2(ld_imm64(R0, maps_.strings->intern(k)));
    emit(stx(8, R10, static_cast<int16_t>(at + 8), R0));
    return true;
  }

  bool one(const bytecode::Insn& in, size_t pc, std::string& err) {
    if (uint8_t alu = alu_of(in.op); alu != 0xff) {
      load(R0, in.b);
      load(R1, in.c);
      if (alu == BPF_LSH || alu == BPF_RSH || alu == BPF_ARSH) emit(alu64(BPF_AND, R1, 63));
      emit(alu64(alu, R0, R1));
      store(in.a, R0);
      return true;
    }
    if (uint8_t cmp = cmp_of(in.op); cmp != 0xff) {
      load(R1, in.b);
      load(R2, in.c);
      emit(mov64(R0, 1));
      emit(jmp(cmp, R1, R2, 1));
      emit(mov64(R0, 0));
      store(in.a, R0);
      return true;
    }
    switch (in.op) {
      case Op::Ret:
        emit(mov64(R0, 0));
        emit(exit_insn());
        return true;
      case Op::Mov:  // (a copy of a string register copies nothing: its state says what it is)
        load(R0, in.b);
        store(in.a, R0);
        str_[in.a] = str_[in.b];
        return true;
      case Op::Lds:
        emit(st(8, R10, reg(in.a), 0));
        str_[in.a] = static_cast<int>(in.imm);
        return true;
      case Op::Scmp:
        return compare_strings(in, err);
      case Op::Ldi:
        emit2(ld_imm64(R0, static_cast<uint64_t>(mod_.consts[in.imm])));
        store(in.a, R0);
        return true;
      case Op::Neg:
        load(R0, in.b);
        emit(neg64(R0));
        store(in.a, R0);
        return true;
      case Op::Not:
        load(R0, in.b);
        emit(alu64(BPF_XOR, R0, -1));
        store(in.a, R0);
        return true;
      case Op::LNot:
        load(R1, in.b);
        emit(mov64(R0, 1));
        emit(jmp(BPF_JEQ, R1, 0, 1));
        emit(mov64(R0, 0));
        store(in.a, R0);
        return true;
      case Op::Narrow:
        load(R0, in.b);
        extend(R0, in.imm & 0xf, (in.imm & 0x10) != 0);
        store(in.a, R0);
        return true;
      case Op::Jmp:
        jump_to(ja(0), pc + 1 + in.imm);
        return true;
      case Op::Jz:
      case Op::Jnz:
        load(R1, in.a);
        jump_to(jmp(in.op == Op::Jz ? BPF_JEQ : BPF_JNE, R1, 0, 0), pc + 1 + in.imm);
        return true;
      case Op::Ldb:
        // execname is read where it is pushed as a key (the only use why_not_at_probe() allows).
        // Its register holds 0 (copies of it read an initialized slot).
        if (static_cast<Builtin>(in.imm) == Builtin::Execname) {
          emit(st(8, R10, reg(in.a), 0));
          str_[in.a] = kComm;
          return true;
        }
        if (int k = probe_name_constant(mod_, static_cast<Builtin>(in.imm)); k != kNoStr) {
          emit(st(8, R10, reg(in.a), 0));  // a constant, as Lds
          str_[in.a] = k;
          return true;
        }
        str_[in.a] = kNoStr;
        return builtin(static_cast<Builtin>(in.imm), in.a, err);
      case Op::Ldf: {
        const bytecode::FieldRef& f = mod_.fields[in.imm];
        emit(ldx(f.size, R0, R6, static_cast<int16_t>(f.offset)));
        extend(R0, f.size, f.is_signed);
        store(in.a, R0);
        return true;
      }
      case Op::Tclr:
        key_bytes_ = 0;
        return true;
      case Op::Tpush:
        if (key_bytes_ + kCommLen > kMaxKeys * kCommLen) {
          err = "too many keys";
          return false;
        }
        if (in.imm != 0) {
          if (!push_string_key(in.a, err)) return false;
        } else {
          load(R0, in.a);
          emit(stx(8, R10, static_cast<int16_t>(key_base_ + key_bytes_), R0));
          key_bytes_ += 8;
        }
        return true;
      case Op::Agg:
        return aggregate(in, err);
      case Op::Ldd:
      case Op::Std:
        if (in.op == Op::Ldd) str_[in.a] = kNoStr;
        return thread_var(in, err);
      case Op::Ldl: {  // this->: a stack slot (written before it is read: why_not_at_probe)
        emit(ldx(8, R0, R10, static_cast<int16_t>(locals_off_ + 8 * static_cast<int>(in.imm))));
        store(in.a, R0);
        str_[in.a] = kNoStr;
        return true;
      }
      case Op::Stl: {
        const lang::Type& t = mod_.locals[in.imm].type;
        load(R0, in.a);
        extend(R0, t.size, t.is_signed);  // the variable's type, as the engine narrows it
        emit(stx(8, R10, static_cast<int16_t>(locals_off_ + 8 * static_cast<int>(in.imm)), R0));
        return true;
      }
      default:
        err = "an operation only the host runs";
        return false;
    }
  }

  const bytecode::Module& mod_;
  const bytecode::ClauseCode& clause_;
  const ClauseTarget& target_;
  const ClauseMaps& maps_;
  std::vector<bpf_insn> out_;
  std::vector<size_t> at_;                         // bytecode pc -> first BPF insn
  std::vector<std::pair<size_t, size_t>> fixups_;  // BPF jump -> bytecode pc
  int key_base_ = 0, val_off_ = 0, comm_off_ = 0, args_off_ = 0, locals_off_ = 0;
  int key_bytes_ = 0;
  std::vector<bool> merge_;
  std::vector<int> str_;  // StrState of each register
};

}  // namespace

uint32_t kernel_agg_values(const bytecode::AggInfo& a) {
  switch (a.func) {
    case bytecode::AggFunc::Count:
    case bytecode::AggFunc::Sum:
      return 1;
    case bytecode::AggFunc::Quantize:
      return kQuantizeBuckets;
    case bytecode::AggFunc::Lquantize:
      return static_cast<uint32_t>(lquantize_levels(a) + 2);
    case bytecode::AggFunc::Llquantize:
      return llquantize_of(a).nbins();
    case bytecode::AggFunc::Stddev:
      return 4;
    default:
      return 2;
  }
}

std::string why_not_at_probe(const bytecode::Module& mod, const bytecode::ClauseCode& clause,
                             const ClauseTarget& target, const bytecode::Kept& kept) {
  bool aggregates = false, stores = false;
  if (8 * (clause.nregs + mod.locals.size()) + kMaxKeys * kCommLen + 16 + kCommLen +
          (target.usdt ? kUsdtDataSize : 0) >
      static_cast<uint32_t>(kStackBytes))
    return "it needs more registers and this-> variables than a BPF stack holds";
  // What each string register holds (StrState); at a merge point it is not known any more.
  std::vector<int> str(bytecode::kMaxRegs, kNoStr);
  const std::vector<bool> merge = merge_points(clause);
  // this-> at the probe lives in the program's own stack, so a clause may read one only after
  // writing it on every path (another clause's value, or the engine's, is not there).
  const std::vector<std::vector<bool>> written = locals_written(clause, mod.locals.size());
  for (size_t pc = 0; pc < clause.code.size(); ++pc) {
    const bytecode::Insn& in = clause.code[pc];
    if (merge[pc]) std::fill(str.begin(), str.end(), kNoStr);
    if (in.op == Op::Mov && str[in.b] != kNoStr) {  // a copy of a string is that string
      str[in.a] = str[in.b];
      continue;
    }
    if (in.op == Op::Scmp) {
      if (str[in.b] == kNoStr || str[in.c] == kNoStr)
        return "it compares strings other than execname, probe names and constants";
      str[in.a] = kNoStr;
      continue;
    }
    const bool binary = alu_of(in.op) != 0xff || cmp_of(in.op) != 0xff;
    const bool unary = in.op == Op::Mov || in.op == Op::Neg || in.op == Op::Not ||
                       in.op == Op::LNot || in.op == Op::Narrow;
    // Agg reads its value (not count's) and the quantize family's weight.
    auto is_str = [&](uint8_t r) { return str[r] != kNoStr; };
    const bool agg_reads = in.op == Op::Agg && in.imm < mod.aggs.size() &&
                           ((mod.aggs[in.imm].func != bytecode::AggFunc::Count && is_str(in.b)) ||
                            (mod.aggs[in.imm].func >= bytecode::AggFunc::Quantize && is_str(in.c)));
    if (((binary || unary) && is_str(in.b)) || (binary && is_str(in.c)) || agg_reads ||
        ((in.op == Op::Jz || in.op == Op::Jnz) && is_str(in.a)))
      return "it uses strings other than as keys and in comparisons";
    if (in.op == Op::Ldb && static_cast<Builtin>(in.imm) == Builtin::Execname) {
      if (!target.current_thread) return "it reads execname of another thread";
      str[in.a] = kComm;
      continue;
    }
    if (in.op == Op::Ldb) {
      if (int k = probe_name_constant(mod, static_cast<Builtin>(in.imm)); k != kNoStr) {
        str[in.a] = k;
        continue;
      }
    }
    if (in.op == Op::Lds) {
      str[in.a] = static_cast<int>(in.imm);
      continue;
    }
    if (in.op != Op::Tpush && in.op != Op::Agg && in.op != Op::Tclr && in.op != Op::Ret &&
        !is_jump(in.op))
      str[in.a] = kNoStr;
    if (alu_of(in.op) != 0xff || cmp_of(in.op) != 0xff || is_jump(in.op)) continue;
    std::string why;
    switch (in.op) {
      case Op::Ret:
      case Op::Mov:
      case Op::Ldi:
      case Op::Neg:
      case Op::Not:
      case Op::LNot:
      case Op::Narrow:
      case Op::Tclr:
        continue;
      case Op::Tpush:
        if (in.imm != 0 && str[in.a] == kNoStr)
          return "it has a string key other than execname, a probe name or a constant";
        continue;
      case Op::Ldb:
        if (!builtin_ok(static_cast<Builtin>(in.imm), target, why)) return "it reads " + why;
        continue;
      case Op::Ldf: {
        if (in.imm >= mod.fields.size()) return "it reads an unknown field";
        const bytecode::FieldRef& f = mod.fields[in.imm];
        if (f.kind != bytecode::FieldRef::Int || f.offset < 8 || f.offset % f.size != 0)
          return "it reads args->" + f.name + " (a string, or where a program may not read)";
        continue;
      }
      case Op::Agg: {
        if (in.imm >= mod.aggs.size()) return "it updates an unknown aggregation";
        const bytecode::AggInfo& a = mod.aggs[in.imm];
        if (!agg_func_ok(a))
          return "@" + a.name + " is not count, sum, avg, min, max, quantize or a small lquantize";
        if (a.key_types.size() > kMaxKeys) return "@" + a.name + " has too many keys";
        if (in.imm >= kept.aggs.size() || !kept.aggs[in.imm])
          return "@" + a.name + " is also used on the host";
        aggregates = true;
        continue;
      }
      case Op::Ldl:
      case Op::Stl: {
        if (in.imm >= mod.locals.size()) return "it uses an unknown variable";
        const bytecode::VarInfo& v = mod.locals[in.imm];
        if (!v.type.is_int()) return "this->" + v.name + " is not an integer";
        if (in.imm >= kept.locals.size() || !kept.locals[in.imm])
          return "this->" + v.name + " is also used on the host";
        if (in.op == Op::Ldl && !written[pc].empty() && !written[pc][in.imm])
          return "it reads this->" + v.name + " before it surely wrote it";
        continue;
      }
      case Op::Ldd:
      case Op::Std: {
        if (in.imm >= mod.dynvars.size()) return "it uses an unknown variable";
        const bytecode::VarInfo& v = mod.dynvars[in.imm];
        if (v.scope != bytecode::VarScope::Thread || v.is_array)
          return "it uses associative arrays (global state)";
        if (!v.type.is_int()) return "self->" + v.name + " is not an integer";
        if (in.imm >= kept.thread_vars.size() || !kept.thread_vars[in.imm])
          return "self->" + v.name + " is also used on the host";
        if (!target.current_thread) return "it uses self-> of another thread";
        stores = stores || in.op == Op::Std;
        continue;
      }
      default:
        return "it has actions, variables or strings";
    }
  }
  if (!aggregates && !stores) return "it neither aggregates nor sets self-> variables";
  return "";
}

std::vector<bpf_insn> emit_clause_program(const bytecode::Module& mod,
                                          const bytecode::ClauseCode& clause,
                                          const ClauseTarget& target, const ClauseMaps& maps,
                                          std::string& err) {
  std::vector<bpf_insn> out;
  Emitter e(mod, clause, target, maps);
  if (!e.run(out, err)) return {};
  return out;
}

}  // namespace vtrace::bpf
