#include "cli/vm_command.h"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "guest/image_builder.h"
#include "targets/qemu/exec_client.h"
#include "targets/qemu/guest_target.h"
#include "targets/qemu/vm_manager.h"

namespace vtrace::cli {

namespace {

namespace qemu = vtrace::targets::qemu;

const char* kGuestUsage =
    "Usage: vtrace image build [--cache DIR] [--force] [--add HOST_FILE=GUEST_PATH]...\n"
    "       vtrace vm start NAME... [--cpus N] [--mem MIB] [--cache DIR] [--accel kvm|tcg]\n"
    "                               [--timeout SEC] [--kernel FILE] [--initrd FILE] [--append "
    "ARGS]\n"
    "                               [--share NAME] [-v]\n"
    "       vtrace vm list [-v]\n"
    "       vtrace vm exec NAME [--timeout SEC] [--no-wait] -- COMMAND [ARG]...\n"
    "       vtrace vm pause NAME... | vtrace vm resume NAME...\n"
    "       vtrace vm stop NAME... | --all\n";

struct Usage {
  std::string message;
};

int usage(const std::string& msg) {
  std::fprintf(stderr, "vtrace: %s\n%s", msg.c_str(), kGuestUsage);
  return 2;
}

unsigned parse_count(const std::string& flag, const std::string& v, unsigned max) {
  char* end = nullptr;
  unsigned long n = std::strtoul(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n == 0 || n > max)
    throw Usage{"invalid value for " + flag + ": " + v};
  return static_cast<unsigned>(n);
}

int image_build(const std::vector<std::string>& args) {
  guest::ImageOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--cache" && i + 1 < args.size())
      o.cache_dir = args[++i];
    else if (args[i] == "--add" && i + 1 < args.size()) {
      const std::string& spec = args[++i];
      auto eq = spec.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
        throw Usage{"--add takes HOST_FILE=GUEST_PATH: " + spec};
      o.extra_files.emplace_back(spec.substr(0, eq), spec.substr(eq + 1));
    } else if (args[i] == "--force")
      o.force = true;
    else
      throw Usage{"unknown argument to image build: " + args[i]};
  }
  o.log = [](const std::string& s) { std::fprintf(stderr, "vtrace: %s\n", s.c_str()); };
  guest::GuestImage img = guest::build_image(o);
  std::printf("%s %s (kernel %s, inputs %s)\n  kernel: %s\n  initrd: %s\n",
              img.rebuilt ? "built" : "up to date", img.dir.c_str(), img.kernel_version.c_str(),
              img.inputs_hash.c_str(), img.kernel.c_str(), img.initrd.c_str());
  return 0;
}

int vm_start(const std::vector<std::string>& args) {
  std::vector<std::string> names;
  qemu::VmConfig base;
  std::string cache;
  bool verbose = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw Usage{"option " + a + " requires an argument"};
      return args[++i];
    };
    if (a == "--cpus")
      base.cpus = parse_count(a, value(), 64);
    else if (a == "--mem")
      base.mem_mib = parse_count(a, value(), 65536);
    else if (a == "--cache")
      cache = value();
    else if (a == "--accel") {
      base.accel = value();
      if (base.accel != "kvm" && base.accel != "tcg") throw Usage{"--accel takes kvm or tcg"};
    } else if (a == "--timeout")
      base.boot_timeout_s = parse_count(a, value(), 3600);
    else if (a == "--kernel")
      base.kernel = value();
    else if (a == "--initrd")
      base.initrd = value();
    else if (a == "--append")
      base.append_extra = value();
    else if (a == "--share") {
      base.share = value();
      if (std::string e = qemu::check_share_name(base.share); !e.empty())
        throw Usage{"bad share name '" + base.share + "': " + e};
    } else if (a == "-v")
      verbose = true;
    else if (!a.empty() && a[0] == '-')
      throw Usage{"unknown option to vm start: " + a};
    else {
      if (std::string e = qemu::check_vm_name(a); !e.empty())
        throw Usage{"bad VM name '" + a + "': " + e};
      names.push_back(a);
    }
  }
  if (names.empty()) throw Usage{"vm start needs a VM name"};
  if (base.kernel.empty() || base.initrd.empty()) {
    guest::ImageOptions o;
    o.cache_dir = cache;
    o.log = [](const std::string& s) { std::fprintf(stderr, "vtrace: %s\n", s.c_str()); };
    guest::GuestImage img = guest::build_image(o);
    if (base.kernel.empty()) base.kernel = img.kernel;
    if (base.initrd.empty()) base.initrd = img.initrd;
  }
  std::vector<qemu::VmConfig> configs;
  for (const auto& n : names) {
    qemu::VmConfig c = base;
    c.name = n;
    configs.push_back(c);
  }
  if (verbose) {
    qemu::Accelerator acc =
        base.accel.empty() ? qemu::choose_accelerator() : qemu::Accelerator{base.accel, "--accel"};
    std::fprintf(stderr, "vtrace: accelerator %s: %s\n", acc.name.c_str(), acc.reason.c_str());
  }
  for (const qemu::VmInfo& v : qemu::start_vms(configs))
    std::printf("started %s (pid %d, %u cpus, %u MiB, %s, booted in %.1f s)\n", v.name.c_str(),
                v.pid, v.cpus, v.mem_mib, v.accel.c_str(), v.boot_seconds);
  return 0;
}

// The guest clock's translation to host time and its bound, measured now through the agent
// (two ping bursts: the translation needs two anchors).
std::string measure_guest_clock(const qemu::VmInfo& v) {
  qemu::GuestTarget g(v.name, 0);
  g.set_kvm(v.accel == "kvm");
  std::string err;
  if (!g.open(v.ivshmem, v.pid, 2000, err)) return "unknown: " + err;
  if (!g.calibrate_clock(50, err)) return "unknown: " + err;
  return g.clock_description();
}

int vm_list(const std::vector<std::string>& args) {
  bool verbose = false;
  for (const auto& a : args) {
    if (a == "-v")
      verbose = true;
    else
      throw Usage{"unknown argument to vm list: " + a};
  }
  std::printf("%-16s %8s %5s %8s %-6s %s\n", "NAME", "PID", "CPUS", "MEM", "ACCEL", "STATE");
  for (const qemu::VmInfo& v : qemu::list_vms()) {
    std::printf("%-16s %8d %5u %7uM %-6s %s\n", v.name.c_str(), v.pid, v.cpus, v.mem_mib,
                v.accel.c_str(), v.running ? "running" : "stopped");
    if (verbose) {
      std::printf("    boot %.1f s; accelerator: %s\n    state %s, channel %s\n", v.boot_seconds,
                  v.accel_reason.c_str(), v.dir.c_str(), v.ivshmem.c_str());
      if (!v.share.empty())
        std::printf("    share %s (%s)\n", v.share.c_str(), v.share_path.c_str());
      if (v.running) std::printf("    clock %s\n", measure_guest_clock(v).c_str());
    }
  }
  return 0;
}

int vm_exec(const std::vector<std::string>& args) {
  std::string name;
  qemu::ExecOptions o;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a == "--timeout") {
      if (i + 1 >= args.size()) throw Usage{"option --timeout requires an argument"};
      const std::string& v = args[++i];
      char* end = nullptr;
      o.timeout_s = std::strtod(v.c_str(), &end);
      if (v.empty() || *end != '\0' || !(o.timeout_s > 0) || o.timeout_s > 1e6)
        throw Usage{"invalid value for --timeout: " + v};
    } else if (a == "--no-wait") {
      o.traced = false;
    } else if (!a.empty() && a[0] == '-') {
      throw Usage{"unknown option to vm exec: " + a};
    } else if (name.empty()) {
      name = a;
    } else {
      break;  // the command, without "--"
    }
  }
  if (name.empty()) throw Usage{"vm exec needs a VM name"};
  o.argv.assign(args.begin() + static_cast<long>(i), args.end());
  if (o.argv.empty()) throw Usage{"vm exec needs a command (vm exec NAME -- COMMAND [ARG]...)"};
  qemu::VmInfo v;
  if (!qemu::find_vm(name, &v)) throw std::runtime_error("no VM named " + name);
  if (!v.running) throw std::runtime_error("vm " + name + " is not running");
  qemu::ExecResult r = qemu::exec_command(qemu::exec_target(v), o);
  std::fwrite(r.output.data(), 1, r.output.size(), stdout);
  std::fflush(stdout);
  if (r.truncated)
    std::fprintf(stderr, "vtrace: vm %s: the output was cut at %zu bytes\n", name.c_str(),
                 r.output.size());
  return r.exit_status;
}

int vm_stop(const std::vector<std::string>& args) {
  std::vector<std::string> names;
  for (const auto& a : args) {
    if (a == "--all") {
      for (const auto& v : qemu::list_vms()) names.push_back(v.name);
    } else if (!a.empty() && a[0] == '-') {
      throw Usage{"unknown option to vm stop: " + a};
    } else {
      names.push_back(a);
    }
  }
  if (names.empty() && args.empty()) throw Usage{"vm stop needs a VM name (or --all)"};
  int rc = 0;
  for (const auto& n : names) {
    try {
      qemu::stop_vm(n);
      std::printf("stopped %s\n", n.c_str());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "vtrace: %s\n", e.what());
      rc = 1;
    }
  }
  return rc;
}

// vm pause / vm resume NAME...: QMP stop / cont. A tracer following the VM holds its records
// across the pause and measures its clock again after it.
int vm_pause_resume(const std::vector<std::string>& args, bool pause) {
  const char* verb = pause ? "pause" : "resume";
  if (args.empty()) throw Usage{std::string("vm ") + verb + " needs a VM name"};
  int rc = 0;
  for (const auto& n : args) {
    if (!n.empty() && n[0] == '-') throw Usage{std::string("unknown option to vm ") + verb + ": " + n};
    try {
      const std::string reply =
          qemu::qmp_execute(n, pause ? R"({"execute": "stop"})" : R"({"execute": "cont"})");
      if (reply.find("\"return\"") == std::string::npos)
        throw std::runtime_error("vm " + n + ": QEMU refused: " + reply);
      std::printf("%s %s\n", pause ? "paused" : "resumed", n.c_str());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "vtrace: %s\n", e.what());
      rc = 1;
    }
  }
  return rc;
}

}  // namespace

bool is_guest_subcommand(int argc, char** argv) {
  if (argc < 2) return false;
  std::string a = argv[1];
  return a == "image" || a == "vm";
}

int run_guest_subcommand(int argc, char** argv) {
  std::string group = argv[1];
  std::string verb = argc > 2 ? argv[2] : "";
  std::vector<std::string> args(argv + (argc > 2 ? 3 : 2), argv + argc);
  try {
    if (group == "image" && verb == "build") return image_build(args);
    if (group == "vm" && verb == "start") return vm_start(args);
    if (group == "vm" && verb == "list") return vm_list(args);
    if (group == "vm" && verb == "stop") return vm_stop(args);
    if (group == "vm" && verb == "exec") return vm_exec(args);
    if (group == "vm" && verb == "pause") return vm_pause_resume(args, true);
    if (group == "vm" && verb == "resume") return vm_pause_resume(args, false);
    return usage(verb.empty() ? group + " needs a subcommand"
                              : "unknown subcommand: " + group + " " + verb);
  } catch (const Usage& u) {
    return usage(u.message);
  } catch (const std::exception& e) {
    std::string msg = e.what();
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    std::fprintf(stderr, "vtrace: %s\n", msg.c_str());
    return 1;
  }
}

}  // namespace vtrace::cli
