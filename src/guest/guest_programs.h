// The programs every guest image carries besides busybox: the vtrace-agent (/sbin/vtrace-agent,
// started by /init) and the guest workloads of examples/guest (/bin/NAME). They are found next to
// the running vtrace binary, as CMake lays out a build tree (vtrace, vtrace-agent,
// examples/guest/*), or where $VTRACE_AGENT and $VTRACE_GUEST_BIN_DIR say. A guest has no shared
// libraries, so each must be a static executable.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace vtrace::guest {

// {host path, guest path} pairs. Throws std::runtime_error saying how to get an agent when none
// is found, or which program is not static. *note (if given) says where the workloads came from
// or that there are none.
std::vector<std::pair<std::string, std::string>> find_guest_programs(std::string* note = nullptr);

// "" when path is an ELF executable without a program interpreter (static), else the problem.
std::string static_elf_problem(const std::string& path);

}  // namespace vtrace::guest
