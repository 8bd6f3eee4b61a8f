#include "bpf/kernel_layout.h"

#include <bpf/btf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace vtrace::bpf {
namespace {

struct BtfDeleter {
  void operator()(btf* b) const { btf__free(b); }
};

// The byte offset of member `name` of the struct/union of type id `type`, looking through
// anonymous members (randomized_struct_fields_start wraps most of task_struct in one).
// `size` receives the member's size in bytes.
std::optional<uint32_t> member_offset(const btf* b, uint32_t type, const char* name,
                                      uint32_t& size) {
  const btf_type* t = btf__type_by_id(b, btf__resolve_type(b, type));
  if (!t || !(btf_is_struct(t) || btf_is_union(t))) return std::nullopt;
  const btf_member* m = btf_members(t);
  for (uint16_t i = 0; i < btf_vlen(t); ++i, ++m) {
    uint32_t bits = btf_member_bit_offset(t, i);
    const char* mname = btf__name_by_offset(b, m->name_off);
    if (mname && *mname) {
      if (strcmp(mname, name) != 0) continue;
      if (bits % 8 != 0 || btf_member_bitfield_size(t, i) != 0) return std::nullopt;
      long long sz = btf__resolve_size(b, m->type);
      if (sz <= 0) return std::nullopt;
      size = static_cast<uint32_t>(sz);
      return bits / 8;
    }
    if (auto inner = member_offset(b, m->type, name, size)) return bits / 8 + *inner;
  }
  return std::nullopt;
}

struct Lookup {
  const btf* b;
  std::string& err;
  bool ok = true;

  uint32_t type_of(const char* struct_name) {
    int id = btf__find_by_name_kind(b, struct_name, BTF_KIND_STRUCT);
    if (id < 0 && ok) {
      err = std::string("the kernel's BTF has no struct ") + struct_name;
      ok = false;
    }
    return id < 0 ? 0 : static_cast<uint32_t>(id);
  }
  // The offset of a field we read `want` bytes of (so it must be that big; 0: any size).
  uint32_t field(uint32_t type, const char* struct_name, const char* name, uint32_t want) {
    if (!ok) return 0;
    uint32_t size = 0;
    auto off = member_offset(b, type, name, size);
    if (!off || (want && size != want)) {
      err = std::string("the kernel's BTF has no ") +
            (want ? std::to_string(want) + "-byte " : "") + "field " + struct_name + "." + name;
      ok = false;
      return 0;
    }
    return *off;
  }
};

}  // namespace

std::optional<KernelLayout> read_kernel_layout(std::string& err, const std::string& btf_path) {
  if (access(btf_path.c_str(), R_OK) != 0) {
    err = "reading kernel type information: " + btf_path + ": " + strerror(errno) +
          " — the kernel needs CONFIG_DEBUG_INFO_BTF=y (BPF gathering needs the kernel's BTF)";
    return std::nullopt;
  }
  std::unique_ptr<btf, BtfDeleter> b(btf__parse(btf_path.c_str(), nullptr));
  if (!b) {
    err = "reading kernel type information: " + btf_path + ": " + strerror(errno) +
          " — not a BTF file this libbpf understands";
    return std::nullopt;
  }
  Lookup l{b.get(), err};
  KernelLayout k;
  uint32_t task = l.type_of("task_struct");
  uint32_t se = l.type_of("sched_entity");
  uint32_t regs = l.type_of("pt_regs");
  k.task_real_parent = l.field(task, "task_struct", "real_parent", 8);
  k.task_tgid = l.field(task, "task_struct", "tgid", 4);
  k.task_se = l.field(task, "task_struct", "se", 0);
  k.se_sum_exec_runtime = l.field(se, "sched_entity", "sum_exec_runtime", 8);
  k.regs_di = l.field(regs, "pt_regs", "di", 8);
  k.regs_si = l.field(regs, "pt_regs", "si", 8);
  k.regs_dx = l.field(regs, "pt_regs", "dx", 8);
  k.regs_r10 = l.field(regs, "pt_regs", "r10", 8);
  k.regs_r8 = l.field(regs, "pt_regs", "r8", 8);
  k.regs_r9 = l.field(regs, "pt_regs", "r9", 8);
  k.regs_ax = l.field(regs, "pt_regs", "ax", 8);
  k.regs_orig_ax = l.field(regs, "pt_regs", "orig_ax", 8);
  // Optional: x86-64's thread_info (in the task) says when a syscall is an ia32 one.
  if (int ti = btf__find_by_name_kind(b.get(), "thread_info", BTF_KIND_STRUCT); ti > 0 && l.ok) {
    uint32_t size = 0, status_size = 0;
    auto at = member_offset(b.get(), task, "thread_info", size);
    auto status = member_offset(b.get(), static_cast<uint32_t>(ti), "status", status_size);
    if (at && status && status_size == 4) k.task_ti_status = *at + *status;
  }
  if (!l.ok) {
    err = "reading kernel type information from " + btf_path + ": " + err;
    return std::nullopt;
  }
  return k;
}

}  // namespace vtrace::bpf
