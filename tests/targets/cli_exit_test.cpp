// How the vtrace command ends (issue 9): a closed output pipe (`vtrace ... | head -1`) stops
// tracing cleanly, and the -c command never outlives vtrace (dtrace kills the process it
// created), whether vtrace ends by exit(), by its command or by a broken pipe.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "run_vtrace.h"

namespace vtrace::test {
namespace {

// A process that exists and is not a zombie.
bool alive(pid_t pid) {
  if (pid <= 0 || kill(pid, 0) != 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const size_t paren = line.rfind(')');
  return paren != std::string::npos && line.size() > paren + 2 && line[paren + 2] != 'Z';
}

// Waits up to 5 s for pid to be gone; kills it (so no test leaves it behind) if it is not.
bool gone(pid_t pid) {
  for (int i = 0; i < 100 && alive(pid); i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (!alive(pid)) return true;
  kill(pid, SIGKILL);
  return false;
}

pid_t first_int(const std::string& text) {
  return static_cast<pid_t>(std::strtol(text.c_str(), nullptr, 10));
}

std::string line_after(const std::string& text, const std::string& tag) {
  const size_t at = text.find(tag);
  return at == std::string::npos
             ? ""
             : text.substr(at + tag.size(), text.find('\n', at) - at - tag.size());
}

TEST(CliExit, PipeIntoHeadStopsVtraceAndItsCommand) {
  const std::string prog =
      "BEGIN { printf(\"%d\\n\", $target); } profile:::tick-10ms { printf(\"tick\\n\"); }";
  VtraceRun r = run_bash("timeout 30 " + std::string(VTRACE_BINARY) + " -q -n " + quote(prog) +
                         " -c 'sleep 1000' 2>@ERR@ | head -1; echo \"status=${PIPESTATUS[0]}\"");
  const pid_t child = first_int(r.out);
  ASSERT_GT(child, 0) << r.out << r.err;
  // dtrace(1) fails with status 1 when its output cannot be written; not killed by SIGPIPE
  // (141) and not hung (timeout: 124).
  EXPECT_EQ(line_after(r.out, "status="), "1") << r.out << r.err;
  EXPECT_EQ(r.err.find("Broken pipe"), std::string::npos) << r.err;
  EXPECT_TRUE(gone(child)) << "the -c command outlived vtrace";
}

TEST(CliExit, PipeIntoHeadRemovesTheChannelOfAnInstrumentedCommand) {
  const std::string prog =
      "BEGIN { printf(\"%d\\n\", $target); } sample:::tick { printf(\"%d\\n\", arg0); }";
  VtraceRun r =
      run_bash("timeout 30 " + std::string(VTRACE_BINARY) + " -q -n " + quote(prog) + " -c '" +
               SAMPLE_BINARY + " -1 100' 2>@ERR@ | head -1; echo \"status=${PIPESTATUS[0]}\"");
  const pid_t child = first_int(r.out);
  ASSERT_GT(child, 0) << r.out << r.err;
  EXPECT_EQ(line_after(r.out, "status="), "1") << r.out << r.err;
  EXPECT_TRUE(gone(child)) << "the -c command outlived vtrace";
  struct stat st;
  EXPECT_NE(stat(("/dev/shm/vtrace." + std::to_string(child)).c_str(), &st), 0)
      << "channel file left behind";
}

TEST(CliExit, ExitEndsTheCommand) {
  VtraceRun r =
      run_vtrace("-q -n 'BEGIN { printf(\"%d\\n\", $target); exit(0); }' -c 'sleep 1000'");
  EXPECT_EQ(r.status, 0) << r.err;
  const pid_t child = first_int(r.out);
  ASSERT_GT(child, 0) << r.out << r.err;
  EXPECT_TRUE(gone(child)) << "exit() left the -c command running";
}

TEST(CliExit, CommandThatEndsFirstIsNotKilledTwice) {
  VtraceRun r = run_vtrace("-q -n 'BEGIN { printf(\"%d\\n\", $target); }' -c true");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_GT(first_int(r.out), 0) << r.out;
}

TEST(CliExit, PidThatCannotBeTracedSaysWhy) {
  std::ifstream comm("/proc/2/comm");
  std::string name;
  if (comm >> name && name == "kthreadd") {
    VtraceRun r = run_vtrace("-p 2 -n 'BEGIN { exit(0); }'");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("pid 2 (kthreadd): is a kernel thread and cannot be traced with -p"),
              std::string::npos)
        << r.err;
  }
  // As nobody, a root process: permission denied (not "no such process").
  if (geteuid() == 0 && access("/usr/sbin/runuser", X_OK) == 0) {
    const std::string cmd = "runuser -u nobody -- " + std::string(VTRACE_BINARY) + " -p " +
                            std::to_string(getpid()) + " -n 'BEGIN { exit(0); }' 2>&1";
    std::string out;
    if (FILE* p = popen(cmd.c_str(), "r")) {
      char buf[512];
      size_t n;
      while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
      pclose(p);
    }
    EXPECT_NE(out.find("permission denied"), std::string::npos) << out;
  }
}

}  // namespace
}  // namespace vtrace::test

namespace {

// bpftrace habits (`vtrace -e 'PROGRAM'`, `vtrace 'PROGRAM'`) get one line on how vtrace takes a
// program, with exit status 2, not the whole usage.
TEST(CliUsage, ABpftraceStyleProgramGetsOneLine) {
  for (const char* args : {"-e 'BEGIN { exit(0); }'", "'BEGIN { exit(0); }'"}) {
    vtrace::test::VtraceRun r = vtrace::test::run_vtrace(args);
    EXPECT_EQ(r.status, 2) << args;
    EXPECT_EQ(r.err,
              "vtrace: a program is given with -n (vtrace -n 'BEGIN { exit(0); }') or -s FILE; -e "
              "only compiles it (vtrace -h for more)\n")
        << args;
  }
}

}  // namespace
