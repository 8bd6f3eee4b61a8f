// Helpers for the guest tests: run the vtrace binary, find out whether QEMU and the guest
// packages are installed (tests skip, saying why, when they are not).
#pragma once
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace vtrace::guest_test {

struct Result {
  int status = -1;
  std::string output;  // stdout and stderr
};

// Runs `env... vtrace args` through the shell (args are already quoted as needed).
inline Result run_vtrace(const std::string& env, const std::string& args) {
  std::string cmd = env + " " + VTRACE_BINARY + " " + args + " 2>&1";
  Result r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

inline bool shell_ok(const std::string& cmd) {
  return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0;
}

// "" when the guest image can be built here, else what is missing.
inline std::string image_prerequisites_missing() {
  if (!shell_ok("dpkg-query -W -f='${Status}' linux-image-amd64 | grep -q 'install ok installed'"))
    return "linux-image-amd64 is not installed (./setup.sh installs it)";
  if (!std::filesystem::exists("/usr/bin/busybox") && !std::filesystem::exists("/bin/busybox"))
    return "busybox-static is not installed (./setup.sh installs it)";
  return {};
}

inline std::string qemu_missing() {
  if (!shell_ok("command -v qemu-system-x86_64"))
    return "qemu-system-x86_64 not found (install qemu-system-x86)";
  return image_prerequisites_missing();
}

#ifndef VTRACE_SANITIZED
#define VTRACE_SANITIZED 0
#endif

// "" when this build can boot guests, else why not. A sanitizer build's vtrace-agent is not
// static, so its images cannot be built (the normal build runs the VM tests).
inline std::string guest_vm_missing() {
  if (VTRACE_SANITIZED)
    return "sanitizer build: its vtrace-agent is not static (the normal build runs VM tests)";
  return qemu_missing();
}

// A fresh directory under the system temp dir, removed by the destructor.
struct TempDir {
  std::string path;
  explicit TempDir(const std::string& tag) {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / ("vtrace-" + tag + "-XXXXXX")).string();
    char* p = mkdtemp(tmpl.data());
    path = p ? p : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
};

}  // namespace vtrace::guest_test
