// Helpers for the guest tests: run the vtrace binary, find out whether QEMU and the guest
// packages are installed (tests skip, saying why, when they are not).
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "vtrace/guest_abi.h"

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

// A vtrace run in the background: output (stdout + stderr) to a file, waited for with a timeout.
class Background {
 public:
  Background(const std::string& env, const std::string& args, const std::string& out_path)
      : out_(out_path) {
    std::string cmd = env + " exec " + VTRACE_BINARY + " " + args + " >" + out_path + " 2>&1";
    pid_ = fork();
    if (pid_ == 0) {
      execl("/bin/sh", "sh", "-c", cmd.c_str(), nullptr);
      _exit(127);
    }
  }
  ~Background() {
    if (pid_ > 0 && !done_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  // Exit status, or -1 after `seconds` (then it is killed).
  int wait(int seconds) {
    for (int i = 0; i < seconds * 20; ++i) {
      int st = 0;
      if (waitpid(pid_, &st, WNOHANG) == pid_) {
        done_ = true;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return -1;
  }
  void interrupt() { kill(pid_, SIGINT); }
  pid_t pid() const { return pid_; }  // vtrace's own (the shell execs it)
  std::string output() const {
    std::ifstream in(out_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  pid_t pid_ = -1;
  bool done_ = false;
  std::string out_;
};

// Waits until the tracer printed `text` (e.g. its BEGIN clause, run once every guest's probes
// are live).
inline bool wait_output(const Background& tracer, const std::string& text, int seconds) {
  for (int i = 0; i < seconds * 20; ++i) {
    if (tracer.output().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// The channel file of a running VM of runtime directory `run_dir`: SHM_DIR/NAME-ID.channel, ID
// from its vm.conf (vm_manager.h). "" when there is no such VM.
inline std::string guest_channel(const std::string& run_dir, const std::string& vm) {
  std::ifstream conf(run_dir + "/" + vm + "/vm.conf");
  std::string id;
  for (std::string line; std::getline(conf, line);)
    if (line.rfind("shm_id=", 0) == 0) id = line.substr(7);
  if (id.empty()) return {};
  const char* dir = std::getenv("VTRACE_SHM_DIR");
  return (dir && *dir ? std::string(dir) : "/dev/shm/vtrace-" + std::to_string(geteuid())) + "/" +
         vm + "-" + id + ".channel";
}

// Reads one field of a guest's channel header (the tests watch the host attach).
inline bool host_attached(const std::string& run_dir, const std::string& vm) {
  int fd = open(guest_channel(run_dir, vm).c_str(), O_RDONLY);
  if (fd < 0) return false;
  void* p = mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  if (p == MAP_FAILED) return false;
  bool on = static_cast<const vtrace_guest_header*>(p)->host_attached != 0;
  munmap(p, 4096);
  return on;
}

// Waits until the host is attached to every one of `vms`.
inline bool wait_attached(const std::string& run_dir, const std::vector<std::string>& vms,
                          int seconds) {
  for (int i = 0; i < seconds * 20; ++i) {
    bool all = true;
    for (const auto& v : vms) all = all && host_attached(run_dir, v);
    if (all) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// Two guests a test suite boots once (in SetUpTestSuite) in a runtime directory of its own,
// named PREFIXa<pid> and PREFIXb<pid>, and stops at its end.
struct TwoGuests {
  std::unique_ptr<TempDir> run_dir;
  std::string env;  // VTRACE_RUNTIME_DIR=... VTRACE_CACHE_DIR=... for run_vtrace
  std::string a, b;
  std::string boot_output;
  bool booted = false;

  // `vm_start_args`: more arguments to `vm start` (e.g. "--share NAME").
  void start(const std::string& prefix, const std::string& cache,
             const std::string& vm_start_args = "") {
    run_dir = std::make_unique<TempDir>(prefix);
    env = "VTRACE_RUNTIME_DIR=" + run_dir->path + " VTRACE_CACHE_DIR=" + cache;
    a = prefix + "a" + std::to_string(getpid());
    b = prefix + "b" + std::to_string(getpid());
    Result r = run_vtrace(env, "vm start " + a + " " + b + " " + vm_start_args);
    boot_output = r.output;
    booted = r.status == 0;
  }
  void stop() {
    if (!run_dir) return;
    run_vtrace(env, "vm stop --all");
    run_dir.reset();
  }
};

}  // namespace vtrace::guest_test
