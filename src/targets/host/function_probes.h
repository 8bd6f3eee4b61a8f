// The pid provider's probes (pidPID:MODULE:FUNCTION:entry and :return, as DTrace names them):
// the function symbols of a process's executable and shared libraries, each at the file offset
// of its first instruction, where a uprobe (entry) or a uretprobe (return) goes. Modules match by
// their file name, by each prefix of it that ends before a '.' ("libc" and "libc.so" for
// libc.so.6) and, for the executable, by "a.out", as DTrace matches them.
#pragma once
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sys/elf_symbols.h"

namespace vtrace::targets::host {

struct FunctionSite {
  std::string path;    // the object file
  std::string module;  // its file name
  std::vector<std::string> module_aliases;
  std::string function;
  uint64_t offset = 0;  // file offset of the function's first instruction
  uint64_t addr = 0;    // its link-time address
  uint64_t size = 0;    // its size in bytes
};

// The other names of module `path` (the executable's when `executable`).
std::vector<std::string> module_aliases(const std::string& path, bool executable);

// The functions of `objects` (the executable first) whose module and name match the globs ("":
// any), with a size and in an executable segment. `symbols` caches each file's table. More than
// `max` is an error: a description that would place that many uprobes.
bool find_functions(const std::vector<std::string>& objects, const std::string& module_glob,
                    const std::string& function_glob, size_t max,
                    std::map<std::string, std::unique_ptr<sys::ElfSymbols>>& symbols,
                    std::vector<FunctionSite>& out, std::string& error);

// The offsets from `f`'s start at which its instructions begin, as objdump (binutils) decodes
// them: a uprobe must replace a whole instruction. False with `error` when objdump cannot be run.
bool instruction_offsets(const FunctionSite& f, std::vector<uint64_t>& out, std::string& error);

}  // namespace vtrace::targets::host
