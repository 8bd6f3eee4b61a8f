// The agent's log: a file (--log) for everything, plus the serial console for problems when the
// agent runs as a daemon in a guest (so a boot log shows why tracing does not work).
#pragma once
#include <string>

namespace vtrace::guest {

// Opens the log. `path` "" logs to stderr; `console` also copies errors to /dev/console.
void log_open(const std::string& path, bool console);
void log_info(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace vtrace::guest
