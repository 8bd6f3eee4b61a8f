// Runs the vtrace binary through the shell for the end-to-end target tests, keeping stdout and
// stderr apart (tests check the script's output and vtrace's messages separately).
#pragma once
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace vtrace::test {

struct VtraceRun {
  int status = -1;
  std::string out, err;
};

// s as one single-quoted shell word.
inline std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs `script` with bash, stdout captured; @ERR@ in it names a temporary file whose contents
// come back as err (the script writes vtrace's stderr there: 2>@ERR@).
inline VtraceRun run_bash(std::string script) {
  char errpath[] = "/tmp/vtrace-test-XXXXXX";
  int fd = mkstemp(errpath);
  if (fd >= 0) close(fd);
  for (size_t at; (at = script.find("@ERR@")) != std::string::npos;) script.replace(at, 5, errpath);
  VtraceRun r;
  if (FILE* p = popen(("bash -c " + quote(script)).c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    int st = pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }
  std::ifstream e(errpath);
  std::ostringstream ss;
  ss << e.rdbuf();
  r.err = ss.str();
  unlink(errpath);
  return r;
}

// `vtrace ARGS` (ARGS already quoted as needed).
inline VtraceRun run_vtrace(const std::string& args) {
  return run_bash(std::string(VTRACE_BINARY) + " " + args + " 2>@ERR@");
}

}  // namespace vtrace::test

// Skips a test that loads BPF programs (vtrace's host kernel probes) when not root.
#define REQUIRE_BPF()                                                                        \
  do {                                                                                       \
    if (geteuid() != 0) GTEST_SKIP() << "skipped: needs root (BPF programs on tracepoints)"; \
  } while (0)
