// The vtrace command line, parsed as dtrace(1) parses its own: combined short flags (-qn),
// values attached or separate (-xquiet, -x quiet), operands after the options become the
// script's macro arguments $1..$9.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace vtrace::cli {

struct CommandLine {
  std::vector<std::string> descriptions;                   // -n, and -P/-m/-f as descriptions
  std::vector<std::string> scripts;                        // -s
  std::vector<std::pair<std::string, std::string>> xopts;  // -x name[=value]
  std::vector<std::string> list_ids;                       // -i
  bool quiet = false;
  bool list = false;
  bool compile_only = false;  // -e
  bool verbose = false;       // -v: with -e, where each clause runs
  bool zdefs = false;         // -Z
  bool destructive = false;   // -w
  bool help = false;
  bool version = false;
  std::string output;                   // -o
  std::string command;                  // -c
  std::vector<int> pids;                // -p (repeatable)
  std::vector<std::string> vms;         // --vm NAME[,NAME]: guests this run starts and stops
  std::vector<std::string> macro_args;  // operands
  // -C: the script goes through the C preprocessor first, with -D/-U/-I (and -x define=,
  // undef=, incdir=) as cpp's; -x stdc=s is K&R C (no __STDC__).
  bool preprocess = false;
  std::vector<std::string> cpp_args;
  bool cpp_traditional = false;
};

// Throws UsageError with a message for bad usage (exit status 2).
struct UsageError {
  std::string message;
};
CommandLine parse_command_line(int argc, char** argv);

const char* usage_text();

}  // namespace vtrace::cli
