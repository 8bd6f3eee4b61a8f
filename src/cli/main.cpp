// vtrace: a dtrace(1)-compatible front end to the vtrace engine.
#include <cstdio>

#include "cli/options.h"
#include "cli/run.h"

int main(int argc, char** argv) {
  try {
    return vtrace::cli::run(vtrace::cli::parse_command_line(argc, argv));
  } catch (const vtrace::cli::UsageError& e) {
    std::fprintf(stderr, "vtrace: %s\n%s", e.message.c_str(), vtrace::cli::usage_text());
    return 2;
  }
}
