#include "guest/agent/agent_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace vtrace::guest {

namespace {

std::mutex g_mu;
FILE* g_log = nullptr;
bool g_console = false;

void write_line(bool error, const char* fmt, va_list ap) {
  char msg[1024];
  vsnprintf(msg, sizeof msg, fmt, ap);
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  std::lock_guard<std::mutex> lock(g_mu);
  FILE* out = g_log != nullptr ? g_log : stderr;
  std::fprintf(out, "[%5ld.%03ld] vtrace-agent: %s%s\n", static_cast<long>(ts.tv_sec),
               ts.tv_nsec / 1000000, error ? "error: " : "", msg);
  std::fflush(out);
  if (error && g_console) {
    int fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd >= 0) {
      dprintf(fd, "vtrace-agent: %s\n", msg);
      close(fd);
    }
  }
}

}  // namespace

void log_open(const std::string& path, bool console) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_console = console;
  if (!path.empty()) {
    FILE* f = std::fopen(path.c_str(), "ae");
    if (f != nullptr) g_log = f;
  }
}

void log_info(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  write_line(false, fmt, ap);
  va_end(ap);
}

void log_error(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  write_line(true, fmt, ap);
  va_end(ap);
}

}  // namespace vtrace::guest
