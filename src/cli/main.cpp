// vtrace: a dtrace(1)-compatible front end to the vtrace engine.
#include <cstdio>

#include "cli/options.h"
#include "cli/run.h"
#include "cli/vm_command.h"

int main(int argc, char** argv) {
  if (vtrace::cli::is_guest_subcommand(argc, argv)) return vtrace::cli::run_guest_subcommand(argc, argv);
  try {
    return vtrace::cli::run(vtrace::cli::parse_command_line(argc, argv));
  } catch (const vtrace::cli::UsageError& e) {
    std::fprintf(stderr, "vtrace: %s\n%s", e.message.c_str(), vtrace::cli::usage_text());
    return 2;
  }
}
