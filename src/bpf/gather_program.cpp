#include "bpf/gather_program.h"

#include <bpf/bpf.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "bpf/gather_layout.h"
#include "bpf/gather_record.h"
#include "bpf/insn.h"
#include "bpf/program.h"

namespace vtrace::bpf {
namespace {

using namespace insn;

// Registers kept across helper calls.
constexpr Reg kCtx = R6;   // the tracepoint record
constexpr Reg kRec = R7;   // the reserved ring record
constexpr Reg kTask = R8;  // current, while the header is written
constexpr Reg kSize = R8;  // then a string's read size (bounded: the verifier checks it)
constexpr Reg kAddr = R9;  // and its address

// The frame: kMaxExprDepth expression slots below r10, then a u32 map key, a u64 scratch, a
// syscall program's source (its header's probe) or a USDT program's task, and its tgid.
constexpr int16_t slot(size_t i) {
  return static_cast<int16_t>(-8 * static_cast<int>(i + 1));
}
constexpr int16_t kKeySlot = slot(kMaxExprDepth);
constexpr int16_t kScratchSlot = slot(kMaxExprDepth + 1);
constexpr int16_t kSourceSlot = slot(kMaxExprDepth + 2);

constexpr int16_t hdr(size_t off) {
  return static_cast<int16_t>(off);
}

// Instructions with forward jumps patched once their target is known.
class Emitter {
 public:
  void operator()(bpf_insn i) { code_.push_back(i); }
  void operator()(const std::array<bpf_insn, 2>& pair) {
    code_.push_back(pair[0]);
    code_.push_back(pair[1]);
  }
  // Emits a jump whose target is set by land().
  size_t jump(bpf_insn i) {
    code_.push_back(i);
    return code_.size() - 1;
  }
  void land(size_t at) { code_[at].off = static_cast<int16_t>(code_.size() - at - 1); }
  // r = r7 + off, for offsets beyond a load/store's 16-bit displacement.
  void rec_ptr(Reg r, uint64_t off) {
    (*this)(mov64(r, kRec));
    (*this)(alu64(BPF_ADD, r, static_cast<int32_t>(off)));
  }
  void append(const std::vector<bpf_insn>& code) {
    code_.insert(code_.end(), code.begin(), code.end());
  }
  std::vector<bpf_insn> take() { return std::move(code_); }

 private:
  std::vector<bpf_insn> code_;
};

bool check_expr(const Expr& e, const GatherPlan& p, const std::string& what, std::string& err) {
  size_t depth = 0;
  for (const ExprOp& op : e) {
    size_t pops = 0;
    switch (op.kind) {
      case ExprOp::Const:
        break;
      case ExprOp::Arg:
        err = what + " still reads probe argument " + std::to_string(op.value) +
              ": the target must resolve it to a field of the tracepoint record first";
        return false;
      case ExprOp::Field:
        if (op.size != 1 && op.size != 2 && op.size != 4 && op.size != 8) {
          err = what + " reads a field of " + std::to_string(op.size) + " bytes (1, 2, 4 or 8)";
          return false;
        }
        // Only data_size bytes are sure to be copied (data_extra may fault, see the header).
        if (uint64_t{op.offset} + op.size > p.data_size) {
          err = what + " reads bytes " + std::to_string(op.offset) + ".." +
                std::to_string(uint64_t{op.offset} + op.size) + " of the tracepoint record, of " +
                "which only " + std::to_string(p.data_size) + " bytes are copied";
          return false;
        }
        break;
      case ExprOp::Neg:
      case ExprOp::Not:
        pops = 1;
        break;
      case ExprOp::Add:
      case ExprOp::Sub:
      case ExprOp::Mul:
      case ExprOp::And:
      case ExprOp::Or:
      case ExprOp::Xor:
      case ExprOp::Shl:
      case ExprOp::Lsr:
      case ExprOp::Asr:
        pops = 2;
        break;
      default:
        err = what + " has an unknown operation " + std::to_string(op.kind);
        return false;
    }
    if (depth < pops) {
      err = what + " pops more values than it pushed";
      return false;
    }
    depth = depth - pops + 1;
    if (depth > kMaxExprDepth) {
      err = what + " needs more than " + std::to_string(kMaxExprDepth) + " evaluation slots";
      return false;
    }
  }
  if (depth != 1) {
    err = what + " leaves " + std::to_string(depth) + " values instead of one";
    return false;
  }
  return true;
}

// Evaluates a checked expression; its value ends in slot(0).
void emit_expr(Emitter& e, const Expr& expr) {
  size_t d = 0;
  for (const ExprOp& op : expr) {
    switch (op.kind) {
      case ExprOp::Const:
        if (op.value == static_cast<int32_t>(op.value)) {
          e(mov64(R1, static_cast<int32_t>(op.value)));
        } else {
          e(ld_imm64(R1, static_cast<uint64_t>(op.value)));
        }
        e(stx(8, R10, slot(d++), R1));
        break;
      case ExprOp::Field: {
        e(ldx(op.size, R1, kRec, hdr(sizeof(GatherHeader) + op.offset)));
        if (op.is_signed && op.size < 8) {
          e(alu64(BPF_LSH, R1, 64 - 8 * op.size));
          e(alu64(BPF_ARSH, R1, 64 - 8 * op.size));
        }
        e(stx(8, R10, slot(d++), R1));
        break;
      }
      case ExprOp::Neg:
      case ExprOp::Not:
        e(ldx(8, R1, R10, slot(d - 1)));
        e(op.kind == ExprOp::Neg ? neg64(R1) : alu64(BPF_XOR, R1, -1));
        e(stx(8, R10, slot(d - 1), R1));
        break;
      default: {
        static constexpr uint8_t kAlu[] = {BPF_ADD, BPF_SUB, BPF_MUL, BPF_AND, BPF_OR,
                                           BPF_XOR, BPF_LSH, BPF_RSH, BPF_ARSH};
        uint8_t alu = kAlu[op.kind - ExprOp::Add];
        e(ldx(8, R1, R10, slot(d - 2)));
        e(ldx(8, R2, R10, slot(d - 1)));
        if (alu == BPF_LSH || alu == BPF_RSH || alu == BPF_ARSH) e(alu64(BPF_AND, R2, 63));
        e(alu64(alu, R1, R2));
        e(stx(8, R10, slot(d - 2), R1));
        --d;
        break;
      }
      case ExprOp::Arg:
        break;  // refused by check_expr
    }
  }
}

// The header: every field, since reserved ring memory is not zeroed.
void emit_header(Emitter& e, const GatherPlan& p, const KernelLayout& k, const GatherSource& src) {
  if (src.syscall) {
    e(ldx(8, R1, R10, kSourceSlot));
    e(stx(4, kRec, hdr(offsetof(GatherHeader, probe)), R1));
  } else {
    e(st(4, kRec, hdr(offsetof(GatherHeader, probe)), static_cast<int32_t>(p.probe)));
  }
  e(call(BPF_FUNC_get_smp_processor_id));
  e(stx(4, kRec, hdr(offsetof(GatherHeader, cpu)), R0));
  e(call(BPF_FUNC_ktime_get_ns));
  e(stx(8, kRec, hdr(offsetof(GatherHeader, time)), R0));
  e(call(BPF_FUNC_get_current_pid_tgid));  // tgid << 32 | pid: DTrace's pid and tid
  e(stx(4, kRec, hdr(offsetof(GatherHeader, tid)), R0));
  e(alu64(BPF_RSH, R0, 32));
  e(stx(4, kRec, hdr(offsetof(GatherHeader, pid)), R0));
  e(call(BPF_FUNC_get_current_uid_gid));  // gid << 32 | uid
  e(stx(4, kRec, hdr(offsetof(GatherHeader, uid)), R0));
  e(alu64(BPF_RSH, R0, 32));
  e(stx(4, kRec, hdr(offsetof(GatherHeader, gid)), R0));

  // ppid = current->real_parent->tgid, through the scratch slot (a failed read leaves 0).
  e(call(BPF_FUNC_get_current_task));
  e(mov64(kTask, R0));
  e(mov64(R1, R10));
  e(alu64(BPF_ADD, R1, kScratchSlot));
  e(mov64(R2, 8));
  e(mov64(R3, kTask));
  e(alu64(BPF_ADD, R3, static_cast<int32_t>(k.task_real_parent)));
  e(call(BPF_FUNC_probe_read_kernel));
  e(ldx(8, R3, R10, kScratchSlot));
  e(alu64(BPF_ADD, R3, static_cast<int32_t>(k.task_tgid)));
  e.rec_ptr(R1, offsetof(GatherHeader, ppid));
  e(mov64(R2, 4));
  e(call(BPF_FUNC_probe_read_kernel));
  // vtime = current->se.sum_exec_runtime
  e.rec_ptr(R1, offsetof(GatherHeader, vtime));
  e(mov64(R2, 8));
  e(mov64(R3, kTask));
  e(alu64(BPF_ADD, R3, static_cast<int32_t>(k.task_sum_exec_runtime())));
  e(call(BPF_FUNC_probe_read_kernel));
  e.rec_ptr(R1, offsetof(GatherHeader, comm));
  e(mov64(R2, sizeof(GatherHeader::comm)));
  e(call(BPF_FUNC_get_current_comm));
}

// data: the whole room, else the fixed part, else nothing (see gather_program.h).
void emit_data(Emitter& e, const GatherPlan& p, const GatherLayout& l) {
  const int16_t len_at = hdr(offsetof(GatherHeader, data_len));
  if (l.data_room == 0) {
    e(st(4, kRec, len_at, 0));
    return;
  }
  std::vector<size_t> done;
  std::vector<uint32_t> tries{static_cast<uint32_t>(l.data_room)};
  if (p.data_extra > 0 && p.data_size > 0) tries.push_back(p.data_size);
  for (uint32_t n : tries) {
    e.rec_ptr(R1, l.data_offset);
    e(mov64(R2, static_cast<int32_t>(n)));
    e(mov64(R3, kCtx));
    e(call(BPF_FUNC_probe_read_kernel));
    size_t failed = e.jump(jmp(BPF_JNE, R0, 0, 0));
    e(st(4, kRec, len_at, static_cast<int32_t>(n)));
    done.push_back(e.jump(ja(0)));
    e.land(failed);
  }
  e(st(4, kRec, len_at, 0));
  for (size_t j : done) e.land(j);
  // The kernel's pt_regs pointer over the common_* fields (see gather_program.h).
  if (l.data_room >= 8) {
    e(st(8, kRec, hdr(l.data_offset), 0));
  } else {
    for (uint64_t i = 0; i < l.data_room; ++i) e(st(1, kRec, hdr(l.data_offset + i), 0));
  }
}

void emit_string(Emitter& e, const GatherPlan& p, const GatherLayout& l, size_t i) {
  const StringCopy& s = p.strings[i];
  const uint64_t at = l.string_offset(i);
  const int32_t most = static_cast<int32_t>(p.strsize - 1);
  emit_expr(e, s.addr);
  e(ldx(8, kAddr, R10, slot(0)));
  if (s.len.empty()) {
    e(mov64(kSize, most));
  } else {
    // kSize = len <= 0 ? 0 : min(len, strsize - 1), in a form the verifier bounds.
    emit_expr(e, s.len);
    e(ldx(8, kSize, R10, slot(0)));
    size_t positive = e.jump(jmp(BPF_JSGT, kSize, 0, 0));
    e(mov64(kSize, 0));
    size_t zero = e.jump(ja(0));
    e.land(positive);
    size_t fits = e.jump(jmp(BPF_JLE, kSize, most, 0));
    e(mov64(kSize, most));
    e.land(fits);
    e.land(zero);
  }
  e.rec_ptr(R1, at);
  e(stx(8, R1, offsetof(GatherString, addr), kAddr));
  e(stx(4, R1, offsetof(GatherString, max), kSize));
  size_t empty = e.jump(jmp(BPF_JEQ, kSize, 0, 0));
  // helper(the slot's bytes, kSize, kAddr)
  auto read = [&](bpf_func_id helper) {
    e.rec_ptr(R1, at + sizeof(GatherString));
    e(mov64(R2, kSize));
    e(mov64(R3, kAddr));
    e(call(helper));
  };
  if (s.bytes) {
    // copyin(): exactly kSize bytes; len = kSize when they were all read, else the error.
    read(BPF_FUNC_probe_read_user);
    size_t user_ok = e.jump(jmp(BPF_JEQ, R0, 0, 0));
    read(BPF_FUNC_probe_read_kernel);
    size_t failed = e.jump(jmp(BPF_JNE, R0, 0, 0));
    e.land(user_ok);
    e(mov64(R0, kSize));
    e.land(failed);
    e.rec_ptr(R1, at);
    e(stx(4, R1, offsetof(GatherString, len), R0));
    size_t bytes_done = e.jump(ja(0));
    e.land(empty);
    e.rec_ptr(R1, at);
    e(st(4, R1, offsetof(GatherString, len), 0));
    e.land(bytes_done);
    return;
  }
  e(alu64(BPF_ADD, kSize, 1));  // the NUL
  // User memory first; a kernel address faults there (and a user one in the kernel read).
  read(BPF_FUNC_probe_read_user_str);
  size_t user_ok = e.jump(jmp(BPF_JSGE, R0, 0, 0));
  read(BPF_FUNC_probe_read_kernel_str);
  e.land(user_ok);
  e.rec_ptr(R1, at);
  e(stx(4, R1, offsetof(GatherString, len), R0));
  size_t done = e.jump(ja(0));
  e.land(empty);
  e.rec_ptr(R1, at);
  e(st(4, R1, offsetof(GatherString, len), 0));
  e(st(1, R1, sizeof(GatherString), 0));
  e.land(done);
}

void emit_stack(Emitter& e, uint16_t frames, uint64_t at, uint64_t flags, size_t len_field) {
  if (frames == 0) {
    e(st(4, kRec, hdr(len_field), 0));
    return;
  }
  e(mov64(R1, kCtx));
  e.rec_ptr(R2, at);
  e(mov64(R3, static_cast<int32_t>(frames) * 8));
  e(mov64(R4, static_cast<int32_t>(flags)));
  e(call(BPF_FUNC_get_stack));
  e(stx(4, kRec, hdr(len_field), R0));
}

// A syscall program's data: the tracepoint record rebuilt from the registers, all of it.
void emit_syscall_data(Emitter& e, const GatherPlan& p, const GatherLayout& l,
                       const KernelLayout& k, SyscallSide side) {
  e.append(emit_syscall_record(side, k, kCtx, kRec, hdr(l.data_offset), p.data_size));
  e(st(4, kRec, hdr(offsetof(GatherHeader, data_len)), static_cast<int32_t>(p.data_size)));
}

bool check_usdt_plan(const GatherPlan& p, const GatherSource& src, std::string& err) {
  if (!src.usdt) return true;
  if (src.syscall) {
    err = "a program runs on a syscall or on a USDT site, not both";
    return false;
  }
  if (p.data_size != kUsdtDataSize || p.data_extra != 0) {
    err = "a USDT record's data is its " + std::to_string(kUsdtArgs) + " arguments (" +
          std::to_string(kUsdtDataSize) + " bytes), not " + std::to_string(p.data_size) + " + " +
          std::to_string(p.data_extra);
    return false;
  }
  return check_usdt_args(*src.usdt, err);
}

bool check_syscall_plan(const GatherPlan& p, const GatherSource& src, std::string& err) {
  if (!src.syscall) return check_usdt_plan(p, src, err);
  if (src.sources_fd < 0) {
    err = "a syscall program needs the map of its syscalls' sources";
    return false;
  }
  const bool size_ok = p.data_size == 12 || (p.data_size % 8 == 0 && p.data_size <= 64);
  if (p.data_extra != 0 || !size_ok) {
    err = std::string("a syscall record is 12 bytes or a multiple of 8 up to 64, with nothing ") +
          "after it (the plan asks for " + std::to_string(p.data_size) + " + " +
          std::to_string(p.data_extra) + " bytes)";
    return false;
  }
  return true;
}

}  // namespace

bool check_gather_plan(const GatherPlan& p, std::string& err) {
  if (p.strsize == 0 || p.strsize > kMaxStrsize) {
    err = "strsize " + std::to_string(p.strsize) + " is outside 1.." + std::to_string(kMaxStrsize);
    return false;
  }
  GatherLayout l = gather_layout(p);
  if (l.data_room > kMaxDataRoom) {
    err = "the probe copies " + std::to_string(l.data_room) + " bytes of its tracepoint record (" +
          "at most " + std::to_string(kMaxDataRoom) + ")";
    return false;
  }
  if (l.size > kMaxRecordSize) {
    err = "a record of the probe would take " + std::to_string(l.size) + " bytes (at most " +
          std::to_string(kMaxRecordSize) + "): lower strsize or the stack depths";
    return false;
  }
  for (size_t i = 0; i < p.strings.size(); ++i) {
    std::string what = "copyinstr() #" + std::to_string(i + 1);
    if (!check_expr(p.strings[i].addr, p, what + "'s address", err)) return false;
    if (!p.strings[i].len.empty() && !check_expr(p.strings[i].len, p, what + "'s length", err))
      return false;
  }
  return true;
}

std::vector<bpf_insn> emit_gather_program(const GatherPlan& p, const KernelLayout& k, int ring_fd,
                                          int drops_fd, std::string& err, const GatherSource& src) {
  if (!check_gather_plan(p, err) || !check_syscall_plan(p, src, err)) return {};
  const GatherLayout l = gather_layout(p);
  Emitter e;
  e(mov64(kCtx, R1));
  // A syscall's source first: a number nothing maps returns before reserving a record.
  if (src.syscall)
    e.append(emit_syscall_source(*src.syscall, k, kCtx, src.sources_fd, kKeySlot, kSourceSlot));
  // A USDT site shared with other processes' scripts records only in its own.
  if (src.usdt && src.usdt_pid != 0) e.append(emit_process_check(src.usdt_pid, k, kSourceSlot));
  e(ld_map_fd(R1, ring_fd));
  e(mov64(R2, static_cast<int32_t>(l.size)));
  e(mov64(R3, 0));
  e(call(BPF_FUNC_ringbuf_reserve));
  size_t reserved = e.jump(jmp(BPF_JNE, R0, 0, 0));
  // The ring is full: count the drop on this CPU.
  e(st(4, R10, kKeySlot, 0));
  e(ld_map_fd(R1, drops_fd));
  e(mov64(R2, R10));
  e(alu64(BPF_ADD, R2, kKeySlot));
  e(call(BPF_FUNC_map_lookup_elem));
  size_t no_counter = e.jump(jmp(BPF_JEQ, R0, 0, 0));
  e(mov64(R1, 1));
  e(atomic_add64(R0, 0, R1));
  e.land(no_counter);
  e(mov64(R0, 0));
  e(exit_insn());

  e.land(reserved);
  e(mov64(kRec, R0));
  emit_header(e, p, k, src);
  if (src.syscall) {
    emit_syscall_data(e, p, l, k, *src.syscall);
  } else if (src.usdt) {
    e.append(emit_usdt_args(*src.usdt, kCtx, kRec, hdr(l.data_offset)));
    e(st(4, kRec, hdr(offsetof(GatherHeader, data_len)), static_cast<int32_t>(kUsdtDataSize)));
  } else {
    emit_data(e, p, l);
  }
  for (size_t i = 0; i < p.strings.size(); ++i) emit_string(e, p, l, i);
  emit_stack(e, p.kernel_frames, l.kstack_offset, 0, offsetof(GatherHeader, kstack_len));
  emit_stack(e, p.user_frames, l.ustack_offset, BPF_F_USER_STACK,
             offsetof(GatherHeader, ustack_len));
  e(mov64(R1, kRec));
  e(mov64(R2, 0));
  e(call(BPF_FUNC_ringbuf_submit));
  e(mov64(R0, 0));
  e(exit_insn());
  return e.take();
}

sys::UniqueFd load_gather_program(const GatherPlan& p, const KernelLayout& k, int ring_fd,
                                  int drops_fd, const std::string& what, std::string& err,
                                  const GatherSource& src) {
  std::vector<bpf_insn> code = emit_gather_program(p, k, ring_fd, drops_fd, err, src);
  if (code.empty()) {
    err = "the BPF program for " + what + ": " + err;
    return {};
  }
  // A record the ring cannot hold would be dropped on every firing: refuse it now.
  bpf_map_info info{};
  uint32_t info_len = sizeof(info);
  if (bpf_obj_get_info_by_fd(ring_fd, &info, &info_len) != 0) {
    err = "the BPF program for " + what + ": reading the ring buffer's size: " + strerror(errno);
    return {};
  }
  uint64_t need = align8(gather_layout(p).size + 8);  // the ring's 8-byte record header
  if (need > info.max_entries) {
    err = "the BPF program for " + what + ": its records take " + std::to_string(need) +
          " bytes of the " + std::to_string(info.max_entries) +
          "-byte ring buffer: raise bufsize or lower strsize";
    return {};
  }
  const bpf_prog_type type = src.syscall ? BPF_PROG_TYPE_RAW_TRACEPOINT
                             : src.usdt  ? BPF_PROG_TYPE_KPROBE
                                         : BPF_PROG_TYPE_TRACEPOINT;
  return load_program(type, code, "vtrace_gather", "the BPF program for " + what, err);
}

}  // namespace vtrace::bpf
