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

// `vtrace ARGS` (ARGS already quoted as needed).
inline VtraceRun run_vtrace(const std::string& args) {
  char errpath[] = "/tmp/vtrace-test-XXXXXX";
  int fd = mkstemp(errpath);
  if (fd >= 0) close(fd);
  std::string cmd = std::string(VTRACE_BINARY) + " " + args + " 2>" + errpath;
  VtraceRun r;
  if (FILE* p = popen(cmd.c_str(), "r")) {
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

}  // namespace vtrace::test
