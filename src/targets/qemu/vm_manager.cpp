#include "targets/qemu/vm_manager.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "clock/tsc_clock.h"
#include "sys/private_file.h"
#include "targets/qemu/qmp.h"
#include "targets/qemu/vm_conf.h"
#include "transport/guest_channel.h"

namespace fs = std::filesystem;

namespace vtrace::targets::qemu {

namespace {

using Clock = std::chrono::steady_clock;

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::map<std::string, std::string> read_conf(const std::string& path) {
  return parse_conf(read_text(path));
}

void write_conf(const std::string& path, const VmInfo& v) {
  std::ofstream out(path + ".tmp", std::ios::trunc);
  out << format_conf(v);
  out.close();
  fs::rename(path + ".tmp", path);
}

int read_pid(const std::string& path) {
  std::string s = read_text(path);
  return std::atoi(s.c_str());
}

// Alive, not a zombie, and still a QEMU (pid files outlive their processes).
bool qemu_alive(int pid) {
  if (pid <= 0 || kill(pid, 0) != 0) return false;
  std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  auto rp = stat.rfind(')');
  if (rp != std::string::npos && rp + 2 < stat.size() && stat[rp + 2] == 'Z') return false;
  std::string cmd = read_text("/proc/" + std::to_string(pid) + "/cmdline");
  return cmd.find("qemu") != std::string::npos;
}

// `dir`, checked private (created if absent). Throws, naming `what`, when it cannot be trusted.
std::string checked_private_dir(const std::string& dir, const char* what) {
  if (std::string e = sys::ensure_private_dir(dir); !e.empty())
    throw std::runtime_error(std::string(what) + ": " + e);
  return dir;
}

std::string private_runtime_dir() {
  return checked_private_dir(runtime_dir(), "VM state directory");
}

// The host TSC rate in kHz (0 when the TSC is not a usable clock), told to TCG guests.
unsigned host_tsc_khz() {
  if (!clock::TscClock::usable()) return 0;
  clock::TscClock tsc;
  tsc.start(20'000'000);
  return static_cast<unsigned>(1e6 / tsc.ns_per_tick());
}

// A fresh random name part for a VM's shared memory files (16 hex digits): two runtime
// directories (tests use their own) never collide on a VM name.
std::string new_shm_id() {
  uint64_t r = 0;
  std::ifstream("/dev/urandom", std::ios::binary).read(reinterpret_cast<char*>(&r), sizeof r);
  r ^= static_cast<uint64_t>(Clock::now().time_since_epoch().count()) ^ uint64_t(getpid()) << 32;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(r));
  return buf;
}

// Paths of a VM's files. The shared memory files' names come from shm_id, never from a path
// stored in a file.
VmInfo paths_for(const std::string& name, const std::string& shm_id) {
  VmInfo v;
  v.name = name;
  v.dir = runtime_dir() + "/" + name;
  v.console = v.dir + "/console.log";
  v.qmp = v.dir + "/qmp.sock";
  v.events = v.dir + "/events.sock";
  if (valid_shm_id(shm_id)) {
    v.shm_id = shm_id;
    v.ivshmem = shm_dir() + "/" + name + "-" + shm_id + ".channel";
    v.ram = shm_dir() + "/" + name + "-" + shm_id + ".ram";
  }
  return v;
}

VmInfo load(const std::string& name) {
  auto kv = read_conf(runtime_dir() + "/" + name + "/vm.conf");
  VmInfo v = paths_for(name, kv["shm_id"]);
  apply_conf(kv, v);
  v.pid = read_pid(v.dir + "/qemu.pid");
  v.running = qemu_alive(v.pid);
  return v;
}

// Serializes creating and removing shared memory files across vtrace invocations, so a VM
// starting with --share NAME never gets a file that a stopping VM is about to unlink.
class ShareLock {
 public:
  ShareLock() {
    fd_ = open((private_runtime_dir() + "/share.lock").c_str(),
               O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd_ >= 0)
      while (flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
      }
  }
  ~ShareLock() {
    if (fd_ >= 0) close(fd_);
  }
  ShareLock(const ShareLock&) = delete;
  ShareLock& operator=(const ShareLock&) = delete;

 private:
  int fd_ = -1;
};

// Creates a new shared memory file (never an existing one) of `size` bytes, mode 0600.
sys::UniqueFd create_shm(const std::string& path, uint64_t size, bool reserve) {
  std::string err;
  sys::UniqueFd fd = sys::create_private_file(path, size, reserve, err);
  if (!fd.valid()) throw std::runtime_error(err);
  return fd;
}

// The --share file: created when no VM has it yet, else the existing one, checked (ours, private,
// the right size).
void create_or_check_share(const std::string& path) {
  const uint64_t size = uint64_t{kShareSizeMiB} << 20;
  std::string err;
  if (access(path.c_str(), F_OK) != 0) {
    create_shm(path, size, true);
  } else if (!sys::open_private_file(path, O_RDWR, size, err).valid()) {
    throw std::runtime_error("share file: " + err);
  }
}

// Writes the channel header (guest_abi.h) so the agent finds a valid layout when it starts.
void format_channel(int fd, const std::string& path) {
  const transport::GuestLayout layout = transport::guest_layout(uint64_t{kIvshmemSizeMiB} << 20);
  void* p = mmap(nullptr, layout.total_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) throw std::runtime_error("cannot map " + path + ": " + std::strerror(errno));
  transport::init_guest_channel(p, layout);
  munmap(p, layout.total_size);
}

void remove_state(const VmInfo& v) {
  std::error_code ec;
  ShareLock lock;
  fs::remove_all(v.dir, ec);
  if (!v.ivshmem.empty()) fs::remove(v.ivshmem, ec);
  if (!v.ram.empty()) fs::remove(v.ram, ec);
  if (v.share.empty()) return;
  // The shared memory goes with the last VM that uses it (any VM with state, dead or alive).
  for (const auto& e : fs::directory_iterator(runtime_dir(), ec)) {
    if (!e.is_directory() || e.path().filename() == v.name) continue;
    auto kv = read_conf(e.path().string() + "/vm.conf");
    if (kv["share"] == v.share) return;
  }
  fs::remove(v.share_path, ec);
}

bool wait_exit(int pid, double seconds) {
  auto end = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    if (!qemu_alive(pid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return !qemu_alive(pid);
}

constexpr size_t kMaxQmpBytes = 1 << 20;

// Reads from fd until `needle` appears, the deadline passes or kMaxQmpBytes were read in vain.
bool read_until(int fd, const std::string& needle, Clock::time_point deadline,
                std::string* got = nullptr) {
  std::string local;
  std::string& buf = got ? *got : local;
  if (buf.find(needle) != std::string::npos) return true;
  char tmp[4096];
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    int ms = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    if (poll(&p, 1, std::max(ms, 1)) <= 0) continue;
    ssize_t n = read(fd, tmp, sizeof tmp);
    if (n <= 0) return false;
    buf.append(tmp, static_cast<size_t>(n));
    if (buf.size() > kMaxQmpBytes) return false;  // QEMU's replies are small: not QEMU, or lost
    if (buf.find(needle) != std::string::npos) return true;
  }
  return false;
}

// Connects to a QMP socket and negotiates capabilities; -1 on failure.
int qmp_connect(const std::string& sock_path, Clock::time_point deadline) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string caps = "{\"execute\":\"qmp_capabilities\"}\n";
  if (sock_path.size() >= sizeof addr.sun_path) {
    close(fd);
    return -1;
  }
  std::memcpy(addr.sun_path, sock_path.c_str(), sock_path.size() + 1);
  std::string ignored;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      !read_until(fd, "\"QMP\"", deadline) ||
      write(fd, caps.data(), caps.size()) != static_cast<ssize_t>(caps.size()) ||
      !read_until(fd, "\"return\"", deadline)) {
    close(fd);
    return -1;
  }
  return fd;
}

// {"execute":"qmp_capabilities"} then {"execute":"quit"}. True when QEMU accepted the quit.
bool qmp_quit(const std::string& sock_path) {
  auto deadline = Clock::now() + std::chrono::seconds(5);
  int fd = qmp_connect(sock_path, deadline);
  if (fd < 0) return false;
  const std::string quit = "{\"execute\":\"quit\"}\n";
  bool ok = write(fd, quit.data(), quit.size()) == static_cast<ssize_t>(quit.size());
  if (ok) read_until(fd, "\"return\"", deadline);  // or EOF when QEMU is already gone
  close(fd);
  return ok;
}

// Runs the QEMU command (which daemonizes); returns its exit status, stderr in *err.
int run_qemu(const std::vector<std::string>& argv, const std::string& err_path, std::string* err) {
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    int e = open(err_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
    int n = open("/dev/null", O_RDWR);
    if (n >= 0) {
      dup2(n, 0);
      dup2(n, 1);
    }
    if (e >= 0) dup2(e, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    dprintf(2, "cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  *err = read_text(err_path);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

std::string qemu_binary() {
  if (const char* e = std::getenv("VTRACE_QEMU"); e && *e) return e;
  return "qemu-system-x86_64";
}

}  // namespace

std::string runtime_dir() {
  if (const char* e = std::getenv("VTRACE_RUNTIME_DIR"); e && *e) return e;
  if (geteuid() == 0) return "/run/vtrace";
  if (const char* x = std::getenv("XDG_RUNTIME_DIR"); x && *x) return std::string(x) + "/vtrace";
  return "/tmp/vtrace-" + std::to_string(geteuid());
}

std::string check_share_name(const std::string& name) {
  if (name.empty() || name.size() > 32) return "a share name has 1 to 32 characters";
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'))
      return "a share name has only letters, digits, '-' and '_'";
  return {};
}

std::string shm_dir() {
  if (const char* e = std::getenv("VTRACE_SHM_DIR"); e && *e) return e;
  return "/dev/shm/vtrace-" + std::to_string(geteuid());
}

std::string share_path(const std::string& name) {
  return shm_dir() + "/share-" + name;
}

std::string check_vm_name(const std::string& name) {
  if (name.empty() || name.size() > 32) return "a VM name has 1 to 32 characters";
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'))
      return "a VM name has only letters, digits, '-' and '_'";
  if (name == "host") return "\"host\" names the host target";
  if (name.size() > 3 && name.rfind("pid", 0) == 0 &&
      name.find_first_not_of("0123456789", 3) == std::string::npos)
    return "\"pidN\" names a host process";
  return {};
}

Accelerator choose_accelerator(const std::string& cpuinfo_path, const std::string& kvm_device) {
  if (const char* e = std::getenv("VTRACE_ACCEL"); e && *e)
    return {e, std::string("VTRACE_ACCEL=") + e};
  int fd = open(kvm_device.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return {"tcg", kvm_device + " is not usable (" + std::strerror(errno) + ")"};
  close(fd);
  std::string flags;
  std::istringstream in(read_text(cpuinfo_path));
  for (std::string line; std::getline(in, line);)
    if (line.rfind("flags", 0) == 0) {
      flags = " " + line.substr(line.find(':') + 1) + " ";
      break;
    }
  if (flags.find(" vmx ") != std::string::npos || flags.find(" svm ") != std::string::npos)
    return {"kvm", kvm_device + " opens and the CPU has hardware virtualization"};
  return {"tcg", kvm_device +
                     " exists but the CPU has no vmx/svm: software nested KVM would emulate guest "
                     "kernel code, TCG is faster"};
}

std::vector<std::string> qemu_command(const VmConfig& c, const VmInfo& v) {
  const std::string mem = std::to_string(c.mem_mib) + "M";
  std::string append = "console=ttyS0 acpi=off panic=-1 quiet vtrace.name=" + c.name;
  // Under TCG the guest TSC runs at the host's rate, but the guest cannot calibrate it (no PIT,
  // HPET or PM timer that keeps time) and falls back to jiffies, which lag whenever the vCPU is
  // starved: its CLOCK_MONOTONIC (perf's stamps on kernel events) then drifts from the TSC
  // (probe.h's stamps) by tens of ms, and events land out of order. Telling it the rate keeps
  // both on the TSC.
  if (v.accel == "tcg" && c.tsc_khz > 0)
    append += " tsc=reliable tsc_early_khz=" + std::to_string(c.tsc_khz);
  if (!c.append_extra.empty()) append += " " + c.append_extra;
  // One option and its value per line.
  // clang-format off
  std::vector<std::string> cmd = {qemu_binary(),
          "-M", "pc",
          "-accel", v.accel,
          "-smp", std::to_string(c.cpus),
          "-m", mem,
          "-object", "memory-backend-file,id=ram,size=" + mem + ",mem-path=" + v.ram + ",share=on",
          "-machine", "memory-backend=ram",
          "-object", "memory-backend-file,id=ivsh,size=" + std::to_string(kIvshmemSizeMiB) + "M,mem-path=" +
                         v.ivshmem + ",share=on",
          "-device", std::string("ivshmem-plain,memdev=ivsh,addr=") + kChannelPciAddr,
          "-kernel", c.kernel,
          "-initrd", c.initrd,
          "-append", append,
          "-serial", "file:" + v.console,
          "-display", "none",
          "-no-reboot",
          "-qmp", "unix:" + v.qmp + ",server,nowait",
          "-qmp", "unix:" + v.events + ",server,nowait",
          "-daemonize",
          "-pidfile", v.dir + "/qemu.pid"};
  // clang-format on
  if (!v.share.empty()) {
    const std::string backend =
        "memory-backend-file,id=share,size=" + std::to_string(kShareSizeMiB) +
        "M,mem-path=" + v.share_path + ",share=on";
    for (const std::string& a : {std::string("-object"), backend, std::string("-device"),
                                 std::string("ivshmem-plain,memdev=share,addr=") + kSharePciAddr})
      cmd.push_back(a);
  }
  return cmd;
}

bool qemu_running(int pid) {
  return qemu_alive(pid);
}

std::string tail_lines(const std::string& path, size_t n) {
  std::istringstream in(read_text(path));
  std::deque<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
    if (lines.size() > n) lines.pop_front();
  }
  std::string out;
  for (const auto& l : lines) out += "  | " + l + "\n";
  return out;
}

std::vector<VmInfo> start_vms(const std::vector<VmConfig>& configs) {
  private_runtime_dir();
  checked_private_dir(shm_dir(), "VM shared memory directory");
  struct Pending {
    VmConfig cfg;
    VmInfo info;
    Clock::time_point started;
  };
  std::vector<Pending> pending;
  std::string errors;
  auto fail = [&](Pending& p, const std::string& why) {
    errors += "vm " + p.cfg.name + ": " + why;
    std::string tail = tail_lines(p.info.console, 20);
    errors += tail.empty() ? " (the console log is empty)\n"
                           : "; last lines of its console log:\n" + tail;
    int pid = read_pid(p.info.dir + "/qemu.pid");
    if (qemu_alive(pid)) {
      kill(pid, SIGKILL);
      wait_exit(pid, 5);
    }
    remove_state(p.info);
  };

  for (const VmConfig& c : configs) {
    if (std::string e = check_vm_name(c.name); !e.empty())
      throw std::runtime_error("bad VM name '" + c.name + "': " + e);
    if (std::string e = check_share_name(c.share); !c.share.empty() && !e.empty())
      throw std::runtime_error("bad share name '" + c.share + "': " + e);
    for (const char* f : {c.kernel.c_str(), c.initrd.c_str()})
      if (!fs::exists(f)) throw std::runtime_error("vm " + c.name + ": no such file: " + f);
    VmInfo existing;
    if (find_vm(c.name, &existing)) {
      if (existing.running)
        throw std::runtime_error("vm " + c.name + " is already running (pid " +
                                 std::to_string(existing.pid) + ")");
      remove_state(existing);  // stale state of a VM that died
    }
  }

  const unsigned tsc_khz = host_tsc_khz();  // measured once for all the VMs (20 ms)
  for (const VmConfig& config : configs) {
    VmConfig c = config;
    if (c.tsc_khz == 0) c.tsc_khz = tsc_khz;
    Pending p{c, paths_for(c.name, new_shm_id()), Clock::now()};
    Accelerator a = c.accel.empty() ? choose_accelerator() : Accelerator{c.accel, "--accel"};
    p.info.accel = a.name;
    p.info.accel_reason = a.reason;
    p.info.cpus = c.cpus;
    p.info.mem_mib = c.mem_mib;
    if (!c.share.empty()) {
      p.info.share = c.share;
      p.info.share_path = share_path(c.share);
    }
    // A new state directory and new shared memory files, all ours: whatever another user put
    // anywhere is never opened (the directories above are private, the names fresh).
    std::error_code ec;
    fs::remove_all(p.info.dir, ec);  // a VM that died while starting left no vm.conf
    if (mkdir(p.info.dir.c_str(), 0700) != 0)
      throw std::runtime_error("cannot create " + p.info.dir + ": " + std::strerror(errno));
    format_channel(create_shm(p.info.ivshmem, uint64_t{kIvshmemSizeMiB} << 20, true).get(),
                   p.info.ivshmem);
    // Guest RAM is sparse: a guest that outgrows /dev/shm hurts only its own QEMU.
    create_shm(p.info.ram, uint64_t{c.mem_mib} << 20, false);
    std::string err;
    int rc;
    {
      ShareLock lock;  // the share file must not be removed until QEMU has it open
      if (!p.info.share.empty()) create_or_check_share(p.info.share_path);
      write_conf(p.info.dir + "/vm.conf", p.info);
      rc = run_qemu(qemu_command(c, p.info), p.info.dir + "/qemu.err", &err);
    }
    if (rc != 0) {
      while (!err.empty() && err.back() == '\n') err.pop_back();
      fail(p, "qemu failed (exit " + std::to_string(rc) + "): " + err);
      continue;
    }
    pending.push_back(std::move(p));
  }

  std::vector<VmInfo> started;
  while (!pending.empty()) {
    for (size_t i = 0; i < pending.size();) {
      Pending& p = pending[i];
      std::string console = read_text(p.info.console);
      int pid = read_pid(p.info.dir + "/qemu.pid");
      double elapsed = std::chrono::duration<double>(Clock::now() - p.started).count();
      bool done = true;
      if (console.find("vtrace-guest: ready") != std::string::npos) {
        p.info.pid = pid;
        p.info.running = true;
        p.info.boot_seconds = elapsed;
        write_conf(p.info.dir + "/vm.conf", p.info);
        started.push_back(p.info);
      } else if (!qemu_alive(pid)) {
        fail(p, "the guest did not boot (QEMU exited after " +
                    std::to_string(static_cast<int>(elapsed)) + " s)");
      } else if (elapsed > p.cfg.boot_timeout_s) {
        fail(p, "the guest did not boot within " + std::to_string(p.cfg.boot_timeout_s) + " s");
      } else {
        done = false;
      }
      if (done)
        pending.erase(pending.begin() + static_cast<long>(i));
      else
        ++i;
    }
    if (!pending.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!errors.empty()) throw std::runtime_error(errors);
  auto rank = [&](const VmInfo& v) {
    return std::find_if(configs.begin(), configs.end(),
                        [&](const VmConfig& c) { return c.name == v.name; }) -
           configs.begin();
  };
  std::sort(started.begin(), started.end(),
            [&](const VmInfo& a, const VmInfo& b) { return rank(a) < rank(b); });
  return started;
}

bool find_vm(const std::string& name, VmInfo* out) {
  if (!check_vm_name(name).empty()) return false;
  if (!fs::exists(private_runtime_dir() + "/" + name + "/vm.conf")) return false;
  *out = load(name);
  return true;
}

std::vector<VmInfo> list_vms() {
  std::vector<VmInfo> vms;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(private_runtime_dir(), ec)) {
    VmInfo v;
    if (e.is_directory() && find_vm(e.path().filename().string(), &v)) vms.push_back(v);
  }
  std::sort(vms.begin(), vms.end(),
            [](const VmInfo& a, const VmInfo& b) { return a.name < b.name; });
  return vms;
}

int qmp_open(const std::string& sock_path, int timeout_ms) {
  return qmp_connect(sock_path, Clock::now() + std::chrono::milliseconds(timeout_ms));
}

std::string qmp_execute(const std::string& name, const std::string& command_json) {
  VmInfo v;
  if (!find_vm(name, &v)) throw std::runtime_error("no VM named " + name);
  if (!v.running) throw std::runtime_error("vm " + name + " is not running");
  auto deadline = Clock::now() + std::chrono::seconds(10);
  int fd = qmp_connect(v.qmp, deadline);
  if (fd < 0) throw std::runtime_error("vm " + name + ": cannot talk QMP on " + v.qmp);
  std::string cmd = command_json + "\n", buffer, reply;
  bool ok = write(fd, cmd.data(), cmd.size()) == static_cast<ssize_t>(cmd.size());
  // Skip asynchronous events; the reply is the line with "return" or "error" (qmp.h).
  while (ok) {
    if (take_qmp_reply(buffer, reply)) {
      close(fd);
      return reply;
    }
    ok = read_until(fd, "\n", deadline, &buffer);
  }
  close(fd);
  throw std::runtime_error("vm " + name + ": no QMP reply");
}

void stop_vm(const std::string& name) {
  VmInfo v;
  if (!find_vm(name, &v)) throw std::runtime_error("no VM named " + name);
  if (v.running) {
    bool quit = qmp_quit(v.qmp) && wait_exit(v.pid, 10);
    if (!quit && qemu_alive(v.pid)) {
      kill(v.pid, SIGTERM);
      if (!wait_exit(v.pid, 5)) {
        kill(v.pid, SIGKILL);
        wait_exit(v.pid, 5);
      }
    }
  }
  remove_state(v);
}

}  // namespace vtrace::targets::qemu
