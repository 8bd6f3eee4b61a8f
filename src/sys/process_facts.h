// What /proc says about a live process: its executable's name, its comm, whether it still runs.
// Shared by the host's process targets and the guest agent's process relay.
#pragma once
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vtrace::sys {

// The file name of an executable path, without the " (deleted)" /proc/PID/exe appends.
std::string exe_basename(std::string path);

// /proc/PID/comm into comm[size] (NUL-padded, unprintable bytes as '?'). Leaves comm as it was
// when the file cannot be read.
void read_proc_comm(pid_t pid, char* comm, size_t size);

// False when the process is gone: no such pid, or a zombie (Z) or dead (X) task.
bool process_alive(pid_t pid);

// A mapping of code in a process, as /proc/PID/maps shows it.
struct ExecMapping {
  uint64_t start = 0, end = 0, offset = 0;
  std::string file_id;  // "dev inode" as maps shows them: the mapped file, whatever its path
  uint64_t inode = 0;
  std::string path;  // a file's path (as the process sees it), or "[vdso]"
};

// The executable mappings of pid that name a file or a kernel area ("[vdso]"), in address
// order. False when its maps cannot be read (no such process).
bool read_exec_mappings(pid_t pid, std::vector<ExecMapping>& out);

// A live process's real uid and gid and its parent's pid (/proc/PID/status). False when it is
// gone or the file does not say.
bool read_credentials(pid_t pid, uint32_t& uid, uint32_t& gid, int32_t& ppid);

}  // namespace vtrace::sys
