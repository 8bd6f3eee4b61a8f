#include "targets/qemu/exec_client.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "transport/guest_channel.h"

namespace vtrace::targets::qemu {

namespace {

using Clock = std::chrono::steady_clock;

std::string errno_text() {
  return std::strerror(errno);
}

// The channel file, mapped for the length of one request.
class Mapping {
 public:
  Mapping(const std::string& path, uint64_t size) : size_(size) {
    int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + errno_text());
    struct stat st {};
    if (fstat(fd, &st) != 0 || static_cast<uint64_t>(st.st_size) < size) {
      close(fd);
      throw std::runtime_error(path + " is smaller than a vtrace channel");
    }
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    std::string err = errno_text();
    close(fd);
    if (p == MAP_FAILED) throw std::runtime_error("cannot map " + path + ": " + err);
    base_ = p;
  }
  ~Mapping() { munmap(base_, size_); }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  void* base() const { return base_; }

 private:
  void* base_ = nullptr;
  uint64_t size_;
};

// Held for the whole request: a second `vm exec` on the same VM waits its turn (at most
// `wait_s` seconds when that is not negative).
class FileLock {
 public:
  FileLock(const std::string& path, double wait_s) {
    fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd_ < 0) throw std::runtime_error("cannot open " + path + ": " + errno_text());
    const auto deadline = Clock::now() + std::chrono::duration<double>(wait_s);
    while (flock(fd_, wait_s < 0 ? LOCK_EX : LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      if (errno != EINTR) {
        std::string err = errno == EWOULDBLOCK ? "another vm exec runs there" : errno_text();
        close(fd_);
        throw std::runtime_error("cannot lock " + path + ": " + err);
      }
    }
  }
  ~FileLock() { close(fd_); }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

std::string command_text(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

}  // namespace

ExecTarget exec_target(const VmInfo& vm) {
  return {vm.name, vm.ivshmem, vm.dir + "/exec.lock", vm.console, vm.pid};
}

ExecResult exec_command(const ExecTarget& t, const ExecOptions& o) {
  const std::string vm = "vm " + t.vm_name + ": ";
  if (o.argv.empty()) throw std::runtime_error(vm + "no command to run");
  std::string argv;
  for (const auto& a : o.argv) argv.append(a.c_str(), a.size() + 1);  // an embedded NUL ends it
  if (argv.size() > sizeof(vtrace_guest_exec::argv))
    throw std::runtime_error(vm + "the command line is too long (" + std::to_string(argv.size()) +
                             " bytes with its NULs, at most " +
                             std::to_string(sizeof(vtrace_guest_exec::argv)) + ")");

  // Offsets come from our own layout: the header is in guest-writable memory.
  const transport::GuestLayout layout = transport::guest_layout(uint64_t{kIvshmemSizeMiB} << 20);
  Mapping map(t.channel, layout.total_size);
  transport::GuestLayout in_file;
  if (std::string e = transport::read_guest_layout(
          static_cast<const vtrace_guest_header*>(map.base()), layout.total_size, in_file);
      !e.empty())
    throw std::runtime_error(vm + t.channel + " is not a usable vtrace channel: " + e);
  if (in_file.exec_offset != layout.exec_offset || in_file.exec_size != layout.exec_size)
    throw std::runtime_error(vm + t.channel + " has an exec area this vtrace does not expect");
  auto* h = static_cast<vtrace_guest_header*>(map.base());
  vtrace_guest_exec* e = transport::guest_exec(map.base(), layout);
  const uint32_t output_cap = layout.exec_size - static_cast<uint32_t>(sizeof(vtrace_guest_exec));

  FileLock lock(t.lock, o.lock_wait_s);

  auto vm_gone = [&] { return t.qemu_pid > 0 && !qemu_running(t.qemu_pid); };
  const auto ready_deadline = Clock::now() + std::chrono::duration<double>(o.agent_wait_s);
  while (__atomic_load_n(&h->agent_ready, __ATOMIC_ACQUIRE) == 0) {
    if (Clock::now() >= ready_deadline || vm_gone())
      throw std::runtime_error("the agent in VM " + t.vm_name +
                               " is not running (see its console: " + t.console + ")");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  e->argc = static_cast<uint32_t>(o.argv.size());
  e->argv_len = static_cast<uint32_t>(argv.size());
  std::memcpy(e->argv, argv.data(), argv.size());
  e->output_cap = output_cap;
  e->traced = o.traced ? 1 : 0;
  e->output_len = 0;
  e->output_truncated = 0;
  e->exit_status = 0;
  e->state = VTRACE_GEXEC_IDLE;
  const uint32_t seq = e->request_seq + 1;
  __atomic_store_n(&e->request_seq, seq, __ATOMIC_RELEASE);  // publishes everything above

  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(o.timeout_s);
  auto next_vm_check = start + std::chrono::milliseconds(500);
  auto nap = std::chrono::milliseconds(1);
  while (__atomic_load_n(&e->response_seq, __ATOMIC_ACQUIRE) != seq) {
    const auto now = Clock::now();
    if (now >= deadline)
      throw std::runtime_error(vm + "'" + command_text(o.argv) + "' did not finish within " +
                               seconds_text(o.timeout_s) +
                               " s (it may still be running in the guest)");
    if (now >= next_vm_check) {
      if (vm_gone()) throw std::runtime_error(vm + "QEMU exited while the command ran");
      next_vm_check = now + std::chrono::milliseconds(500);
    }
    std::this_thread::sleep_for(nap);
    nap = std::min(nap * 2, std::chrono::milliseconds(10));
  }

  return read_exec_reply(e, output_cap);
}

ExecResult read_exec_reply(const vtrace_guest_exec* e, uint32_t output_cap) {
  ExecResult r;
  const uint32_t claimed = e->output_len;
  const uint32_t len = std::min(claimed, output_cap);
  const char* output = reinterpret_cast<const char*>(e + 1);
  r.output.assign(output, len);
  r.truncated = e->output_truncated != 0 || claimed > output_cap;
  r.exit_status = std::clamp(e->exit_status, 0, 255);
  return r;
}

}  // namespace vtrace::targets::qemu
