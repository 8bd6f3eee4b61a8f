// The vtrace command's flow: compile, enable, list or trace, and report.
#pragma once
#include "cli/options.h"

namespace vtrace::cli {

// Returns the process exit status (0, 1, 2 or the script's exit() value).
int run(const CommandLine& cl);

}  // namespace vtrace::cli
