#include "cli/run.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <set>

#include "cli/child.h"
#include "cli/output_file.h"
#include "cli/pid_access.h"
#include "cli/preprocess.h"
#include "cli/trace_loop.h"
#include "clock/host_clock.h"
#include "engine/engine.h"
#include "engine/profile_provider.h"
#include "export/exporter.h"
#include "lang/compiler.h"
#include "lang/parser.h"
#include "sys/elf_probes.h"
#include "targets/host/at_probe_clauses.h"
#include "targets/host/host_symbolizer.h"
#include "targets/host/kernel_probes.h"
#include "targets/host/profile_ticks.h"
#include "targets/host/usdt_target.h"
#include "targets/host/vmm_probes.h"
#include "targets/process/process_target.h"
#include "targets/process/site_aggregation.h"
#include "targets/qemu/guest_session.h"
#include "targets/timeline.h"

namespace vtrace::cli {

namespace {

using engine::Catalog;

void print_listing(std::FILE* out, const Catalog& catalog, const std::set<uint32_t>& ids) {
  std::fprintf(out, "%5s %10s %17s %33s %s\n", "ID", "PROVIDER", "MODULE", "FUNCTION", "NAME");
  for (const auto& p : catalog.probes()) {
    if (!ids.empty() && !ids.count(p.id)) continue;
    // A process's probes name it; the pid provider's provider is the process already.
    std::string provider =
        p.target == "host" || p.target == p.provider ? p.provider : p.target + ":" + p.provider;
    std::fprintf(out, "%5u %10s %17s %33s %s\n", p.id, provider.c_str(), p.module.c_str(),
                 p.function.c_str(), p.name.c_str());
  }
}

// The script's text. False with errno set when it cannot be read; a directory is EISDIR (an
// ifstream opens one and reads nothing: vtrace then ran an empty script forever).
bool read_file(const std::string& path, std::string& text) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st;
  if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    const int e = S_ISDIR(st.st_mode) ? EISDIR : errno;
    close(fd);
    errno = e;
    return false;
  }
  text.clear();
  char buf[65536];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      close(fd);
      errno = e;
      return false;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return true;
}

// SIGPIPE interrupts nothing: a write to a closed pipe fails with EPIPE instead of killing vtrace
// (its channel files left behind, its -c command running), and tracing stops cleanly. A handler
// rather than SIG_IGN, so the commands vtrace runs (-c, system()) start with the default action.
void on_sigpipe(int) {}

// The channel geometry and mode from the options (-x bufsize, -x mode, pragmas).
transport::ChannelConfig channel_config(const engine::Options& opts) {
  transport::ChannelConfig cfg;
  if (opts.bufsize != engine::Options().bufsize)
    cfg.nslots = transport::slots_for_bufsize(opts.bufsize);
  cfg.sync = opts.mode == "sync";
  return cfg;
}

}  // namespace

int run(const CommandLine& cl) {
  struct sigaction pipe_action = {};
  pipe_action.sa_handler = on_sigpipe;
  sigemptyset(&pipe_action.sa_mask);
  sigaction(SIGPIPE, &pipe_action, nullptr);
  if (cl.help) {
    std::fputs(usage_text(), stdout);
    return 0;
  }
  if (cl.version) {
    std::puts("vtrace 0.1 (D engine)");
    return 0;
  }
  if (cl.descriptions.empty() && cl.scripts.empty() && !cl.list) {
    // bpftrace habits (`vtrace -e 'PROGRAM'`, `vtrace 'PROGRAM'`): one line on how vtrace takes
    // a program, not the whole usage.
    for (const std::string& a : cl.macro_args)
      if (a.find('{') != std::string::npos || a.find(':') != std::string::npos) {
        std::fprintf(stderr,
                     "vtrace: a program is given with -n (vtrace -n '%s') or -s FILE; -e only "
                     "compiles it (vtrace -h for more)\n",
                     a.c_str());
        return 2;
      }
    std::fputs(usage_text(), stderr);
    return 2;
  }

  engine::Options opts;
  opts.quiet = cl.quiet;
  opts.zdefs = cl.zdefs || cl.list;
  opts.destructive = cl.destructive;
  for (const auto& [name, value] : cl.xopts) {
    std::string err = opts.set(name, value);
    if (!err.empty()) {
      std::fprintf(stderr, "vtrace: failed to set -x %s: %s\n", name.c_str(), err.c_str());
      return 1;
    }
  }

  Catalog catalog;
  engine::ProfileProvider profile(catalog);
  // USDT probes of unmodified binaries: of -p/-c processes, and "usdt:/path:provider:name".
  targets::host::UsdtTargets usdt;
  usdt.install_on_demand(catalog);
  // Host kernel tracepoints (syscall, sched, proc, kvm, tracepoint), registered on demand.
  targets::host::KernelProbes kernel(catalog);
  // Each guest's hypervisor layer (NAME:vmm:::*), from its vCPU threads' host events.
  targets::host::VmmProbes vmm(catalog, kernel);

  lang::Source src;
  if (!cl.scripts.empty()) {
    src.name = cl.scripts[0];
    src.from_file = true;
    if (!read_file(src.name, src.text)) {
      std::fprintf(stderr, "vtrace: failed to open %s: %s\n", src.name.c_str(), strerror(errno));
      return 2;
    }
  } else {
    src.name = "<command line>";
    for (const auto& d : cl.descriptions) src.text += d + "\n";
  }
  if (cl.preprocess) {
    std::string out, why;
    if (!preprocess(src.text, cl.cpp_args, cl.cpp_traditional, out, why)) {
      std::fprintf(stderr, "vtrace: failed to preprocess %s: %s\n", src.name.c_str(), why.c_str());
      return 1;
    }
    src.original = std::move(src.text);  // errors show the script's own lines
    src.text = std::move(out);
  }

  // -p: the processes' probes join the catalog before anything is matched against it.
  targets::ProcessTargets procs;
  std::vector<pid_t> usdt_only;
  for (int pid : cl.pids) {
    if (procs.find(pid) != nullptr) continue;
    std::string err = pid_trace_problem(pid);
    if (!err.empty()) {
      std::fprintf(stderr, "vtrace: %s\n", err.c_str());
      return 1;
    }
    if (!usdt.has_process(pid) && !usdt.add_process(pid, catalog, err)) {
      std::fprintf(stderr, "vtrace: %s\n", err.c_str());
      return 1;
    }
    // A process without vtrace probe sites is traced through uprobes only: its USDT probes and
    // the pid provider's function probes.
    if (!sys::has_probe_section("/proc/" + std::to_string(pid) + "/exe")) {
      usdt_only.push_back(pid);
      continue;
    }
    if (!procs.add(pid).discover(catalog, err)) {
      std::fprintf(stderr, "vtrace: %s\n", err.c_str());
      return 1;
    }
  }

  // Guests: the --vm ones are started; every running guest's probes join the catalog.
  targets::qemu::GuestSession guests;
  {
    std::string err;
    if (!guests.open(cl.vms, catalog, cl.quiet, err)) {
      std::fprintf(stderr, "vtrace: %s\n", err.c_str());
      return 1;
    }
    for (const auto& g : guests.targets().all()) vmm.add_vm(g->name(), g->index());
  }

  // -l lists every probe of every target: providers that make their probes on demand (the host
  // kernel's) make them all now.
  if (cl.list) {
    bytecode::ProbeSpec every;
    every.provider = "*";
    catalog.match(every);
  }
  if (cl.list && cl.descriptions.empty() && cl.scripts.empty()) {
    std::set<uint32_t> ids;
    for (const auto& id : cl.list_ids)
      ids.insert(static_cast<uint32_t>(std::strtoul(id.c_str(), nullptr, 10)));
    if (!cl.list_ids.empty() && ids.count(0)) ids.insert(UINT32_MAX);  // nothing matches id 0
    if (cl.list_ids.empty())  // -l -p PID: that process's probes
      for (auto& t : procs.all()) ids.insert(t->probe_ids().begin(), t->probe_ids().end());
    if (cl.list_ids.empty())
      for (int pid : cl.pids)
        for (uint32_t id : usdt.probe_ids(pid)) ids.insert(id);
    print_listing(stdout, catalog, ids);
    return 0;
  }

  // -c: the command starts held at a gate. An instrumented program also gets a channel before
  // it runs and, in its environment, VTRACE_WAIT: its start-up code then connects and waits
  // (bounded) until its probes are enabled, so no firing before main() is missed.
  GatedChild child;
  targets::ProcessTarget* child_target = nullptr;
  if (!cl.command.empty() && !cl.list && !cl.compile_only) {
    std::string path = GatedChild::resolve(cl.command);
    bool instrumented = !path.empty() && sys::has_probe_section(path);
    std::string err;
    if (!child.start(cl.command, err,
                     instrumented ? std::vector<std::string>{"VTRACE_WAIT=1"}
                                  : std::vector<std::string>{})) {
      std::fprintf(stderr, "vtrace: failed to execute %s: %s\n", cl.command.c_str(), err.c_str());
      return 1;
    }
    // Its USDT probes (and its libraries'), attached before it runs.
    if (!path.empty() && !usdt.add_command(child.pid(), path, catalog, err)) {
      child.abandon();
      std::fprintf(stderr, "vtrace: %s\n", err.c_str());
      return 1;
    }
    if (instrumented) {
      child_target = &procs.add(child.pid());
      bool ok = child_target->open_channel(channel_config(opts), err);
      if (ok && !child.release(err)) {
        std::fprintf(stderr, "vtrace: failed to execute %s: %s\n", cl.command.c_str(), err.c_str());
        waitpid(child.pid(), nullptr, 0);
        return 1;
      }
      if (ok && !child_target->wait_client(5000) && !opts.quiet)
        std::fprintf(stderr, "vtrace: pid %d did not connect to vtrace before main()\n",
                     child.pid());
      if (ok) ok = child_target->discover(catalog, err);
      if (!ok) {
        child.abandon();
        std::fprintf(stderr, "vtrace: %s\n", err.c_str());
        return 1;
      }
    }
  }

  lang::MacroArgs macros;
  macros.args.push_back(cl.scripts.empty() ? "vtrace" : cl.scripts[0]);
  for (const auto& a : cl.macro_args) macros.args.push_back(a);
  macros.target = child.pid() > 0 ? child.pid() : (cl.pids.empty() ? 0 : cl.pids[0]);
  macros.defaultargs = opts.defaultargs;
  macros.argref = opts.argref || cl.list;  // a listing runs nothing
  macros.pspec = opts.pspec;

  std::unique_ptr<engine::Engine> eng;
  std::vector<size_t> matched;
  try {
    bytecode::Module module = lang::compile_source(src, macros, kernel.field_resolver());
    for (const auto& p : module.pragmas) {
      std::string err = opts.set(p.name, p.value);
      if (!err.empty()) throw lang::CompileError(src, p.loc, err);
    }
    for (const auto& [name, value] : cl.xopts) opts.set(name, value);  // the command line wins
    if (cl.quiet) opts.quiet = true;
    eng = std::make_unique<engine::Engine>(std::move(module), src, opts, catalog);
    matched = eng->enable();
  } catch (const lang::CompileError& e) {
    child.abandon();
    std::fprintf(stderr, "vtrace: %s\n", e.render().c_str());
    if (!kernel.unavailable().empty())
      std::fprintf(stderr, "vtrace: host: %s\n", kernel.unavailable().c_str());
    return 1;
  }

  if (cl.list) {
    std::vector<uint32_t> ids = eng->enabled_probes();
    if (ids.empty()) {  // as dtrace: a listing filter that matches nothing is an error
      std::string what;
      for (const auto& d : cl.descriptions) what += (what.empty() ? "" : ", ") + d;
      std::fprintf(stderr, "vtrace: failed to match %s: No probe matches description\n",
                   what.empty() ? src.name.c_str() : what.c_str());
      return 1;
    }
    print_listing(stdout, catalog, std::set<uint32_t>(ids.begin(), ids.end()));
    return 0;
  }

  if (!eng->options().quiet) {
    size_t total = 0;
    for (size_t n : matched) total += n;
    if (!cl.scripts.empty()) {
      std::fprintf(stderr, "vtrace: script '%s' matched %zu probe%s\n", src.name.c_str(), total,
                   total == 1 ? "" : "s");
    } else {
      // One line per -n, as dtrace: clause i came from line i+1 of the joined text.
      const auto& clauses = eng->module().clauses;
      for (size_t d = 0; d < cl.descriptions.size(); ++d) {
        size_t n = 0;
        for (size_t c = 0; c < clauses.size(); ++c)
          if (clauses[c].loc.line == d + 1) n += matched[c];
        // dtrace shows the description up to its predicate or clause body.
        const std::string& text = cl.descriptions[d];
        std::string shown = text.substr(0, text.find_first_of("{/;"));
        std::fprintf(stderr, "vtrace: description '%s' matched %zu probe%s\n", shown.c_str(), n,
                     n == 1 ? "" : "s");
      }
    }
  }
  targets::host::HostSymbolizer symbolizer;
  symbolizer.set_guests(&guests.symbolizer());
  eng->set_symbolizer(&symbolizer);
  targets::host::AtProbeClauses at_probe;
  const std::vector<uint32_t> enabled_all = eng->enabled_probes();
  at_probe.plan(*eng, kernel, usdt, enabled_all);
  std::vector<std::string> placement = at_probe.placement();
  targets::SiteAggregation site_aggs;
  site_aggs.plan(*eng, procs, enabled_all, channel_config(eng->options()).sync, placement);
  if (cl.compile_only) {
    if (cl.verbose)
      for (size_t c = 0; c < placement.size(); ++c)
        std::fprintf(stderr, "vtrace: clause #%zu (%s:%u) %s\n", c + 1, src.name.c_str(),
                     eng->module().clauses[c].loc.line, placement[c].c_str());
    return 0;
  }

  if (std::string why = eng->check_buffers(); !why.empty()) {
    child.abandon();
    std::fprintf(stderr, "vtrace: %s\n", why.c_str());
    return 1;
  }

  std::FILE* out = stdout;
  const bool to_directory = exporters::writes_directory(eng->options().oformat);
  if (!cl.output.empty() && !to_directory) {
    std::string why;
    out = open_output_file(cl.output, why);
    if (out == nullptr) {
      child.abandon();
      std::fprintf(stderr, "vtrace: failed to open output file %s: %s\n", cl.output.c_str(),
                   why.c_str());
      return 1;
    }
  }
  eng->set_output(out);
  // -x oformat: an exporter takes the engine's output instead of the text.
  std::string why;
  std::unique_ptr<engine::Consumer> exporter =
      exporters::make_exporter(*eng, out, cl.output, stderr, why);
  if (!why.empty()) {
    child.abandon();
    std::fprintf(stderr, "vtrace: %s\n", why.c_str());
    return 1;
  }
  eng->set_consumer(exporter.get());

  // Every target enabled: channels of -p processes (their options may come from the script's
  // pragmas) and their sites, the BPF programs of kernel and USDT probes that send records, the
  // guests' probes, the tick timers (last: the first tick comes N after tracing starts).
  const transport::ChannelConfig chan = channel_config(eng->options());
  targets::EnableRequest req;
  req.engine = eng.get();
  // Before the site aggregations start: a probe whose clauses all run at its sites is still
  // enabled, though the engine runs nothing for it.
  req.enabled = eng->enabled_probes();
  site_aggs.start(*eng, procs);
  procs.set_site_ops([&](uint32_t probe) { return site_aggs.ops_of(probe); });
  req.needs = [&](uint32_t probe) {
    bpf::ClauseNeeds n;
    for (uint32_t c : eng->clauses_on(probe))
      n.merge(bpf::clause_needs(eng->module(), eng->module().clauses[c]));
    return n;
  };
  req.channel = chan;
  targets::host::ProfileTicks ticks(profile);
  {
    std::string err;
    // The hypervisor layer listens to the kernel's events, and clauses placed at the probe are
    // loaded before the targets that send records.
    bool ok =
        vmm.start(req.enabled, targets::host::VmmProbes::uses_vcpustolen(eng->module()), err) &&
        at_probe.start(*eng, eng->options().aggsize, eng->options().dynvarsize, err);
    // Probes whose every clause runs at the probe (in the kernel, or at probe.h sites) send
    // nothing to vtrace.
    for (uint32_t id : req.enabled)
      if (!eng->clauses_on(id).empty()) req.gathered.push_back(id);
    for (targets::Target* t :
         std::initializer_list<targets::Target*>{&procs, &usdt, &kernel, &guests, &ticks}) {
      if (!ok) break;
      req.now_ns = clock::host_now_ns();
      ok = t->enable(req, err);
    }
    if (!ok) {
      child.abandon();
      std::fprintf(stderr, "vtrace: %s\n", err.c_str());
      return 1;
    }
  }

  // One timeline: every target's records reach the engine in host-time order (equal
  // timestamps in this order of targets).
  guests.set_annotate([&vmm](Record& r) { vmm.annotate(r); });
  targets::Timeline timeline;
  for (targets::Target* t :
       std::initializer_list<targets::Target*>{&ticks, &procs, &usdt, &kernel, &guests})
    timeline.add(*t);
  timeline.set_sync(chan.sync);

  TraceSession session;
  session.engine = eng.get();
  session.timeline = &timeline;
  session.procs = &procs;
  session.usdt_pids = usdt_only;
  session.sync = chan.sync;
  session.stop_without_procs = !cl.pids.empty();
  sigemptyset(&session.signals);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGCHLD}) sigaddset(&session.signals, s);
  sigprocmask(SIG_BLOCK, &session.signals, nullptr);

  eng->begin();
  if (child_target != nullptr) {
    child_target->open_gate();  // the program was waiting before main()
  } else if (child.pid() > 0) {
    std::string err;
    if (!child.release(err)) {
      std::fprintf(stderr, "vtrace: failed to execute %s: %s\n", cl.command.c_str(), err.c_str());
      waitpid(child.pid(), nullptr, 0);
      return 1;
    }
  }
  session.child = child.pid();
  trace_loop(session);
  // From here on a (second) Ctrl-C aborts at once, as dtrace's does: nothing vtrace holds
  // outlives it (BPF programs and perf events go with the process).
  std::signal(SIGINT, SIG_DFL);
  sigset_t interrupt;
  sigemptyset(&interrupt);
  sigaddset(&interrupt, SIGINT);
  sigprocmask(SIG_UNBLOCK, &interrupt, nullptr);
  // Every target's probes off and what they still hold run, in time order, before END.
  engine::EngineSink sink(*eng);
  timeline.drain(clock::host_now_ns(), sink);
  at_probe.stop();
  eng->finish();
  eng->set_consumer(nullptr);
  exporter.reset();  // a CTF trace writes its metadata as it closes
  std::fflush(out);
  for (const targets::Target* t : timeline.targets()) t->report(stderr);
  timeline.report(stderr);
  at_probe.report(stderr);
  guests.finish();
  if (out != stdout) std::fclose(out);
  // The -c command ends with vtrace, as dtrace kills the process it created (exit(), ^C, a
  // closed output pipe): GatedChild's destructor kills it if it still runs.
  if (eng->output_broken()) {
    // dtrace(1) fails on a write error ("failed to write to <stdout>") with status 1. A reader
    // that went away (`vtrace ... | head -1`) is how pipelines end, not worth a message.
    if (eng->output_error() != EPIPE)
      std::fprintf(stderr, "vtrace: failed to write to %s: %s\n",
                   cl.output.empty() ? "<stdout>" : cl.output.c_str(),
                   strerror(eng->output_error()));
    return 1;
  }
  return eng->exited() ? eng->exit_status() : 0;
}

}  // namespace vtrace::cli
