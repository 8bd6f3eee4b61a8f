// vm.conf: what `vtrace vm start` records about a VM in its state directory (key=value lines),
// read back by later invocations (vm list, vm stop, vm exec, tracing runs). The file lives in a
// private directory (vm_manager.h), and it is still read as untrusted text: unknown keys are
// ignored, a number that does not parse reads as 0, a share name and a shared memory id are
// checked before they make a path.
#pragma once
#include <map>
#include <string>
#include <string_view>

#include "targets/qemu/vm_manager.h"

namespace vtrace::targets::qemu {

// key=value lines: the value is everything after the first '=' (a line without one is skipped;
// a later line wins over an earlier one with the same key).
std::map<std::string, std::string> parse_conf(std::string_view text);

// The vm.conf text of a VM (name, cpus, mem, accel, accel_reason, shm_id, boot_seconds, share).
std::string format_conf(const VmInfo& v);

// Sets what vm.conf records of a VM other than its paths (cpus, mem, accel, accel_reason,
// boot_seconds, and share and share_path when the share name is valid).
void apply_conf(const std::map<std::string, std::string>& kv, VmInfo& v);

// A shared memory id as new_shm_id() makes them: 16 lowercase hex digits.
bool valid_shm_id(const std::string& id);

}  // namespace vtrace::targets::qemu
