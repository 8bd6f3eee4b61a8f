// Where the kernel keeps what gather programs read with bpf_probe_read_kernel(): offsets of
// task_struct and pt_regs fields, read from the running kernel's BTF, because they change with
// the kernel's version and configuration (struct randomization included).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace vtrace::bpf {

struct KernelLayout {
  // task_struct
  uint32_t task_real_parent = 0;     // struct task_struct *real_parent
  uint32_t task_tgid = 0;            // pid_t tgid
  uint32_t task_se = 0;              // struct sched_entity se
  uint32_t se_sum_exec_runtime = 0;  // u64 sched_entity.sum_exec_runtime
  // u32 task_struct.thread_info.status (TS_COMPAT: an ia32 syscall); 0 when the kernel has none
  uint32_t task_ti_status = 0;
  // pt_regs (x86-64): the syscall argument registers and the return value
  uint32_t regs_di = 0, regs_si = 0, regs_dx = 0, regs_r10 = 0, regs_r8 = 0, regs_r9 = 0;
  uint32_t regs_ax = 0, regs_orig_ax = 0;

  uint32_t task_sum_exec_runtime() const { return task_se + se_sum_exec_runtime; }
};

inline constexpr const char* kVmlinuxBtf = "/sys/kernel/btf/vmlinux";

// Reads the layout from the BTF file at `btf_path` (the running kernel's by default). Nothing,
// with err saying what is missing and how to get it, when the file or a field is absent.
std::optional<KernelLayout> read_kernel_layout(std::string& err,
                                               const std::string& btf_path = kVmlinuxBtf);

}  // namespace vtrace::bpf
