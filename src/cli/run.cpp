#include "cli/run.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "cli/child.h"
#include "clock/host_clock.h"
#include "engine/engine.h"
#include "engine/profile_provider.h"
#include "lang/compiler.h"
#include "lang/parser.h"

namespace vtrace::cli {

namespace {

using engine::Catalog;

void print_listing(std::FILE* out, const Catalog& catalog, const std::set<uint32_t>& ids) {
  std::fprintf(out, "%5s %10s %17s %33s %s\n", "ID", "PROVIDER", "MODULE", "FUNCTION", "NAME");
  for (const auto& p : catalog.probes()) {
    if (!ids.empty() && !ids.count(p.id)) continue;
    std::string provider = p.target == "host" ? p.provider : p.target + ":" + p.provider;
    std::fprintf(out, "%5u %10s %17s %33s %s\n", p.id, provider.c_str(), p.module.c_str(),
                 p.function.c_str(), p.name.c_str());
  }
}

bool read_file(const std::string& path, std::string& text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  text = ss.str();
  return true;
}

// Waits for the next profile deadline, a signal or the -c child; runs what is due.
// Returns false when tracing should stop.
bool wait_and_fire(engine::Engine& eng, engine::ProfileProvider& profile, pid_t child,
                   const sigset_t& signals, bool quiet) {
  uint64_t now = clock::host_now_ns();
  std::vector<uint32_t> due;
  profile.collect_due(now, due);
  for (uint32_t id : due) {
    Record rec = engine::Engine::host_record(id);
    eng.process(rec);
    if (eng.exited()) return false;
  }
  std::fflush(nullptr);
  uint64_t deadline = profile.next_deadline();
  uint64_t wait_ns = 1'000'000'000;
  now = clock::host_now_ns();
  if (deadline != UINT64_MAX) wait_ns = deadline > now ? std::min(wait_ns, deadline - now) : 0;
  // Even with timers overdue, look at pending signals, so ^C always ends the run.
  timespec ts{static_cast<time_t>(wait_ns / 1000000000), static_cast<long>(wait_ns % 1000000000)};
  siginfo_t info;
  int sig = sigtimedwait(&signals, &info, &ts);
  if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) return false;
  if (sig == SIGCHLD && child > 0) {
    int status = 0;
    if (waitpid(child, &status, WNOHANG) == child) {
      if (!quiet) std::fprintf(stderr, "vtrace: pid %d has exited\n", child);
      return false;
    }
  }
  return true;
}

}  // namespace

int run(const CommandLine& cl) {
  if (cl.help) {
    std::fputs(usage_text(), stdout);
    return 0;
  }
  if (cl.version) {
    std::puts("vtrace 0.1 (D engine)");
    return 0;
  }
  if (cl.descriptions.empty() && cl.scripts.empty() && !cl.list) {
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

  lang::Source src;
  if (!cl.scripts.empty()) {
    src.name = cl.scripts[0];
    if (!read_file(src.name, src.text)) {
      std::fprintf(stderr, "vtrace: failed to open %s: %s\n", src.name.c_str(), strerror(errno));
      return 2;
    }
  } else {
    src.name = "<command line>";
    for (const auto& d : cl.descriptions) src.text += d + "\n";
  }

  if (cl.list && cl.descriptions.empty() && cl.scripts.empty()) {
    std::set<uint32_t> ids;
    for (const auto& id : cl.list_ids)
      ids.insert(static_cast<uint32_t>(std::strtoul(id.c_str(), nullptr, 10)));
    if (!cl.list_ids.empty() && ids.count(0)) ids.insert(UINT32_MAX);  // nothing matches id 0
    print_listing(stdout, catalog, ids);
    return 0;
  }

  GatedChild child;
  if (!cl.command.empty() && !cl.list && !cl.compile_only) {
    std::string err;
    if (!child.start(cl.command, err)) {
      std::fprintf(stderr, "vtrace: failed to execute %s: %s\n", cl.command.c_str(), err.c_str());
      return 1;
    }
  }

  lang::MacroArgs macros;
  macros.args.push_back(cl.scripts.empty() ? "vtrace" : cl.scripts[0]);
  for (const auto& a : cl.macro_args) macros.args.push_back(a);
  macros.target = child.pid() > 0 ? child.pid() : 0;
  macros.defaultargs = opts.defaultargs;

  std::unique_ptr<engine::Engine> eng;
  std::vector<size_t> matched;
  try {
    vm::Module module = lang::compile_source(src, macros);
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
    return 1;
  }

  if (cl.list) {
    std::vector<uint32_t> ids = eng->enabled_probes();
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
  if (cl.compile_only) return 0;

  std::FILE* out = stdout;
  if (!cl.output.empty()) {
    out = std::fopen(cl.output.c_str(), "a");
    if (out == nullptr) {
      child.abandon();
      std::fprintf(stderr, "vtrace: failed to open output file %s: %s\n", cl.output.c_str(),
                   strerror(errno));
      return 1;
    }
  }
  eng->set_output(out);

  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGCHLD}) sigaddset(&signals, s);
  sigprocmask(SIG_BLOCK, &signals, nullptr);

  eng->begin();
  profile.arm(eng->enabled_probes(), clock::host_now_ns());
  if (child.pid() > 0) {
    std::string err;
    if (!child.release(err)) {
      std::fprintf(stderr, "vtrace: failed to execute %s: %s\n", cl.command.c_str(), err.c_str());
      waitpid(child.pid(), nullptr, 0);
      return 1;
    }
  }
  while (!eng->exited() &&
         wait_and_fire(*eng, profile, child.pid(), signals, eng->options().quiet)) {
  }
  eng->finish();
  std::fflush(out);
  if (out != stdout) std::fclose(out);
  return eng->exited() ? eng->exit_status() : 0;
}

}  // namespace vtrace::cli
