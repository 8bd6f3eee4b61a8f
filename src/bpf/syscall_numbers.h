// The x86-64 syscall number behind each syscall tracepoint name (syscalls:sys_enter_NAME), for
// the raw sys_enter/sys_exit programs that dispatch on it (syscall_program.h). The table is
// generated at build time from the kernel ABI header <asm/unistd_64.h> (linux-libc-dev), with
// the syscalls added since linux-libc-dev 6.1 (up to Linux 6.17's file_setattr) after it; a
// syscall newer than both has no number here, and its probes keep their own tracepoint.
// x86-64 only. x32 numbers carry bit 30 and fall outside every table (they are not traced); an
// ia32 (compat) syscall of a 32-bit process is skipped by the dispatchers (TS_COMPAT in the
// task's thread_info), as the syscalls:* tracepoints skip it.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace vtrace::bpf {

// Numbers are below this bound (the size of the maps indexed by them).
inline constexpr uint32_t kMaxSyscallNr = 1024;

// The number of the syscall whose tracepoints are sys_enter_NAME / sys_exit_NAME, or nothing.
// NAME is the tracepoint's spelling: the kernel's SYSCALL_DEFINE name, which for a few syscalls
// differs from the __NR_ name (newfstat is __NR_fstat, sendfile64 is __NR_sendfile, ...).
std::optional<uint32_t> syscall_number(std::string_view tracepoint_name);

}  // namespace vtrace::bpf
