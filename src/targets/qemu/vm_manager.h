// Linux guests run by QEMU: start, list and stop them from separate vtrace invocations.
// State lives in a runtime directory ($VTRACE_RUNTIME_DIR, else /run/vtrace as root, else
// $XDG_RUNTIME_DIR/vtrace): one directory per VM with vm.conf, qemu.pid, qmp.sock and
// console.log. Shared memory lives in /dev/shm/vtrace-UID ($VTRACE_SHM_DIR): the vtrace channel
// (NAME-ID.channel, 16 MiB, formatted as include/vtrace/guest_abi.h says before QEMU starts), an
// ivshmem-plain device at PCI 00:04.0, and guest RAM (NAME-ID.ram), a shared file the host can
// read; ID is random per start. `--share NAME` adds a second ivshmem-plain device at 00:05.0 on
// share-NAME (1 MiB), the same memory in every VM started with that NAME: guest workloads talk
// through it.
//
// Both directories are private (0700, ours, checked on every use: sys/private_file.h) and every
// file in them is created exclusively: a file or directory another local user planted is
// refused with an error, never reused (SECURITY.md).
#pragma once
#include <string>
#include <vector>

namespace vtrace::targets::qemu {

inline constexpr unsigned kIvshmemSizeMiB = 16;
inline constexpr unsigned kShareSizeMiB = 1;
// Fixed PCI slots, so the guest finds its devices without scanning.
inline constexpr const char* kChannelPciAddr = "0x4";  // 0000:00:04.0
inline constexpr const char* kSharePciAddr = "0x5";    // 0000:00:05.0

struct Accelerator {
  std::string name;    // "kvm" or "tcg"
  std::string reason;  // why (printed by `vm start -v` and stored in vm.conf)
};

// KVM only when /dev/kvm opens and the CPU has hardware virtualization (vmx/svm in
// /proc/cpuinfo); a /dev/kvm without them (PVM-style nested KVM) emulates guest kernel code
// and is slower than TCG. $VTRACE_ACCEL=kvm|tcg overrides. cpuinfo is a parameter for tests.
Accelerator choose_accelerator(const std::string& cpuinfo_path = "/proc/cpuinfo",
                               const std::string& kvm_device = "/dev/kvm");

struct VmConfig {
  std::string name;
  unsigned cpus = 1;
  unsigned mem_mib = 256;
  std::string kernel;
  std::string initrd;
  std::string append_extra;  // appended to the kernel command line
  std::string accel;         // empty: choose_accelerator()
  std::string share;         // --share NAME: the shared memory device's name, "" for none
  unsigned boot_timeout_s = 60;
  unsigned tsc_khz = 0;  // the host TSC rate, given to TCG guests (0: measured at start)
};

struct VmInfo {
  std::string name;
  int pid = 0;
  unsigned cpus = 0;
  unsigned mem_mib = 0;
  std::string accel;
  std::string accel_reason;
  bool running = false;
  std::string dir;         // state directory
  std::string shm_id;      // random part of the shared memory files' names ("" if unknown)
  std::string ivshmem;     // the channel: SHM_DIR/NAME-ID.channel
  std::string ram;         // guest RAM backing file: SHM_DIR/NAME-ID.ram
  std::string console;     // console.log
  std::string qmp;         // qmp.sock: vm commands (one client at a time)
  std::string events;      // events.sock: a second monitor, the tracer's (QEMU's STOP/RESUME)
  std::string share;       // --share NAME, "" for none
  std::string share_path;  // SHM_DIR/share-NAME
  double boot_seconds = 0;
};

std::string runtime_dir();
// Where the VMs' shared memory files live: $VTRACE_SHM_DIR, else /dev/shm/vtrace-EUID.
std::string shm_dir();

// NAME: letters, digits, '-', '_' (max 32), not "host", not "pidN". Returns "" or the problem.
std::string check_vm_name(const std::string& name);

// A --share NAME: the same rules as a VM name. Returns "" or the problem.
std::string check_share_name(const std::string& name);
std::string share_path(const std::string& name);

// The QEMU command line for a VM (exposed for tests and `vm start -v`).
std::vector<std::string> qemu_command(const VmConfig& c, const VmInfo& paths);

// Boots the VMs (all at once) and waits until each prints the ready marker on its console.
// Throws std::runtime_error naming the VM (with its console tail) on failure; VMs of the
// same call that did boot stay running. Returns one VmInfo per started VM.
std::vector<VmInfo> start_vms(const std::vector<VmConfig>& configs);

// Both throw std::runtime_error when the runtime directory cannot be trusted (not private).
std::vector<VmInfo> list_vms();
bool find_vm(const std::string& name, VmInfo* out);

// Quits the VM through QMP (falls back to SIGTERM, then SIGKILL) and removes its state.
// Throws std::runtime_error when no VM of that name exists.
void stop_vm(const std::string& name);

// Runs one QMP command (a JSON object) on a running VM and returns QEMU's reply line
// ({"return": ...} or {"error": ...}). Throws std::runtime_error when the VM is not reachable.
std::string qmp_execute(const std::string& name, const std::string& command_json);
// Connects to a QMP socket and negotiates capabilities (waiting up to timeout_ms); -1 on failure.
int qmp_open(const std::string& sock_path, int timeout_ms);

// True while pid is a live (not zombie) QEMU process.
bool qemu_running(int pid);

// Last n lines of a file ("" when unreadable).
std::string tail_lines(const std::string& path, size_t n);

}  // namespace vtrace::targets::qemu
