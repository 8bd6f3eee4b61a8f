// The guest subcommands: `vtrace image build`, `vtrace vm start|list|exec|stop`.
#pragma once

namespace vtrace::cli {

// True when argv names a subcommand this file handles ("image" or "vm" as the first operand).
bool is_guest_subcommand(int argc, char** argv);

// Runs it; returns the exit status (0 ok, 1 failure, 2 usage).
int run_guest_subcommand(int argc, char** argv);

}  // namespace vtrace::cli
