#include "cli/options.h"

#include <cstdlib>
#include <cstring>

namespace vtrace::cli {

const char* usage_text() {
  return "Usage: vtrace [-eqlwZ] [-n probe-description [clause]] [-s script] [-x opt[=val]]\n"
         "              [-o output] [-c cmd] [-P provider] [-m module] [-f function] [-i id]\n"
         "              [args ...]\n"
         "\n"
         "  probe description: [target:]provider:module:function:name, globs allowed\n"
         "\n"
         "  -n desc   enable probes matching desc (with an optional /predicate/ { actions })\n"
         "  -s file   compile the D script in file\n"
         "  -P prov   enable (or with -l, list) the probes of a provider\n"
         "  -m mod    enable (or with -l, list) the probes of a module\n"
         "  -f func   enable (or with -l, list) the probes of a function\n"
         "  -i id     list the probe with this id (with -l)\n"
         "  -l        list probes (all, or those the other options describe), do not trace\n"
         "  -q        quiet: print only what the script prints\n"
         "  -x opt    set an option (quiet, strsize, nspec, specsize, dynvarsize, aggsize,\n"
         "            aggsortkey, aggsortrev, defaultargs, destructive, ...), as #pragma D\n"
         "            option does\n"
         "  -o file   append the trace output to file\n"
         "  -b size   the record buffers' size, as -x bufsize=size\n"
         "  -c cmd    run cmd; $target is its pid; exit when it exits\n"
         "  -p pid    trace the running process pid ($target); repeatable\n"
         "  -e        compile and match the probes, then exit without tracing\n"
         "  -v        with -e: say where each clause runs (at the probe, or in vtrace and why)\n"
         "  -Z        allow descriptions that match no probe\n"
         "  -w        allow destructive actions (system())\n"
         "  -C        run the script through the C preprocessor (cpp) first; -D name[=def],\n"
         "            -U name, -I dir are cpp's (also -x define=, undef=, incdir=, stdc=)\n"
         "  -h        this help; -V version\n"
         "  args      the script's macro arguments: $1..$9 (integers), $$1..$$9 (strings)\n"
         "\n"
         "Providers (vtrace -l lists every probe; man vtrace says more):\n"
         "  dtrace:::BEGIN|END|ERROR          profile:::tick-N[unit], profile-N (every CPU)\n"
         "  syscall::NAME:entry|return        sched:::on-cpu|off-cpu|wakeup, proc:::exec|exit\n"
         "  tracepoint:SUBSYS::EVENT          any kernel tracepoint (args->FIELD)\n"
         "  PROVIDER$target:::NAME            a process's probe.h sites and USDT probes\n"
         "  usdt:/path/to/bin:PROVIDER:NAME   a file's USDT probes, in every process\n"
         "  pid$target:MODULE:FUNC:entry|return|OFFSET   a process's functions (uprobes)\n"
         "  VM:fbt::FUNC:entry|return         a guest kernel's functions (kprobes)\n"
         "  VM:profile:::profile-N            samples of a guest's vCPUs\n"
         "  kvm:::exit|entry, NAME:vmm:::preempt|resume|halt|exit|entry   the hypervisor\n"
         "  targets: host (default), pidPID or a process name, a guest's NAME\n"
         "\n"
         "Linux guests (QEMU):\n"
         "  vtrace image build [--cache DIR]           build the guest kernel + initramfs\n"
         "  vtrace vm start NAME... [--cpus N --mem M]  boot guests; vm list [-v]; vm stop NAME\n"
         "  vtrace vm exec NAME -- CMD ARGS...          run a command in a guest (its agent)\n"
         "  --vm NAME[,NAME]  start these guests for this run (stopped at its end); every running\n"
         "                    guest is a target: NAME:provider:module:function:name\n"
         "\n"
         "Exit status: 0 success (or the value given to exit()), 1 failure, 2 usage error.\n";
}

CommandLine parse_command_line(int argc, char** argv) {
  CommandLine cl;
  int i = 1;
  auto value_for = [&](char flag, const char* rest) -> std::string {
    if (*rest != '\0') return rest;
    if (i + 1 >= argc) throw UsageError{std::string("option -") + flag + " requires an argument"};
    return argv[++i];
  };
  for (; i < argc; ++i) {
    const char* arg = argv[i];
    if (std::strcmp(arg, "--") == 0) {
      ++i;
      break;
    }
    if (std::strcmp(arg, "--help") == 0) {
      cl.help = true;
      continue;
    }
    if (std::strcmp(arg, "--version") == 0) {
      cl.version = true;
      continue;
    }
    if (std::strncmp(arg, "--", 2) == 0) {
      if (std::strcmp(arg, "--vm") == 0 || std::strncmp(arg, "--vm=", 5) == 0) {
        // --vm NAME[,NAME...]: guests this run starts (and stops at its end).
        std::string value;
        if (arg[4] == '=') {
          value = arg + 5;
        } else {
          if (i + 1 >= argc) throw UsageError{"option --vm requires a VM name"};
          value = argv[++i];
        }
        size_t start = 0;
        while (start <= value.size()) {
          size_t comma = value.find(',', start);
          if (comma == std::string::npos) comma = value.size();
          if (comma > start) cl.vms.push_back(value.substr(start, comma - start));
          start = comma + 1;
        }
        if (cl.vms.empty()) throw UsageError{"option --vm requires a VM name"};
        continue;
      }
      throw UsageError{std::string("unknown option ") + arg};
    }
    if (arg[0] != '-' || arg[1] == '\0') {
      // An operand (a macro argument). Options may follow, as dtrace(1) takes them:
      // `vtrace -s x.d 100 -c cmd` runs cmd, it does not pass "-c" as $2.
      cl.macro_args.push_back(arg);
      continue;
    }
    for (const char* p = arg + 1; *p != '\0'; ++p) {
      char f = *p;
      switch (f) {
        case 'q':
          cl.quiet = true;
          continue;
        case 'l':
          cl.list = true;
          continue;
        case 'e':
          cl.compile_only = true;
          continue;
        case 'v':
          cl.verbose = true;
          continue;
        case 'Z':
          cl.zdefs = true;
          continue;
        case 'C':
          cl.preprocess = true;
          continue;
        case 'w':
          cl.destructive = true;
          continue;
        case 'h':
          cl.help = true;
          continue;
        case 'V':
          cl.version = true;
          continue;
        default:
          break;
      }
      std::string v;
      switch (f) {
        case 'n':
          cl.descriptions.push_back(value_for(f, p + 1));
          break;
        case 's':
          cl.scripts.push_back(value_for(f, p + 1));
          break;
        case 'P':
          cl.descriptions.push_back(value_for(f, p + 1) + ":::");
          break;
        case 'm':
          cl.descriptions.push_back(":" + value_for(f, p + 1) + "::");
          break;
        case 'f':
          cl.descriptions.push_back("::" + value_for(f, p + 1) + ":");
          break;
        case 'i':
          cl.list_ids.push_back(value_for(f, p + 1));
          break;
        case 'o':
          cl.output = value_for(f, p + 1);
          break;
        case 'b':  // dtrace's -b SIZE: -x bufsize=SIZE
          cl.xopts.emplace_back("bufsize", value_for(f, p + 1));
          break;
        case 'c':
          cl.command = value_for(f, p + 1);
          break;
        case 'x': {
          v = value_for(f, p + 1);
          size_t eq = v.find('=');
          std::string name = v.substr(0, eq),
                      value = eq == std::string::npos ? "" : v.substr(eq + 1);
          // The preprocessor's options are the command's, not the engine's.
          if (name == "cpp") {
            cl.preprocess = true;
          } else if (name == "define" || name == "undef" || name == "incdir") {
            cl.cpp_args.push_back((name == "define"  ? "-D"
                                   : name == "undef" ? "-U"
                                                     : "-I") +
                                  value);
          } else if (name == "stdc" &&
                     (value == "a" || value == "c" || value == "s" || value == "t")) {
            cl.cpp_traditional = value == "s";
          } else {  // (a bad stdc value too: refused as the engine's options are, status 1)
            cl.xopts.emplace_back(name, value);
          }
          break;
        }
        case 'D':
        case 'U':
        case 'I':
          cl.cpp_args.push_back(std::string("-") + f + value_for(f, p + 1));
          break;
        case 'p': {
          v = value_for(f, p + 1);
          char* end = nullptr;
          long pid = std::strtol(v.c_str(), &end, 10);
          if (v.empty() || *end != '\0' || pid <= 0 || pid > 0x3fffffff)
            throw UsageError{"invalid process ID: " + v};
          cl.pids.push_back(static_cast<int>(pid));
          break;
        }
        default:
          throw UsageError{std::string("unknown option -") + f};
      }
      break;  // the value consumed the rest of this argument
    }
  }
  for (; i < argc; ++i) cl.macro_args.push_back(argv[i]);
  if (!cl.scripts.empty() && !cl.descriptions.empty())
    throw UsageError{"-s and -n/-P/-m/-f cannot be combined in one invocation yet"};
  if (cl.scripts.size() > 1) throw UsageError{"only one -s script may be given"};
  return cl;
}

}  // namespace vtrace::cli
