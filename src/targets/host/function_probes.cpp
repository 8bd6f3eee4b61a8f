#include "targets/host/function_probes.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "engine/glob.h"

namespace vtrace::targets::host {

namespace {

std::string file_name(const std::string& path) {
  const size_t s = path.rfind('/');
  return s == std::string::npos ? path : path.substr(s + 1);
}

bool matches(const std::string& glob, const std::string& value) {
  return glob.empty() || engine::glob_match(glob, value);
}

}  // namespace

std::vector<std::string> module_aliases(const std::string& path, bool executable) {
  std::vector<std::string> out;
  const std::string name = file_name(path);
  for (size_t dot = name.find('.', 1); dot != std::string::npos; dot = name.find('.', dot + 1))
    out.push_back(name.substr(0, dot));
  if (executable) out.push_back("a.out");
  return out;
}

bool find_functions(const std::vector<std::string>& objects, const std::string& module_glob,
                    const std::string& function_glob, size_t max,
                    std::map<std::string, std::unique_ptr<sys::ElfSymbols>>& symbols,
                    std::vector<FunctionSite>& out, std::string& error) {
  out.clear();
  for (size_t i = 0; i < objects.size(); ++i) {
    const std::string& path = objects[i];
    const std::string module = file_name(path);
    std::vector<std::string> aliases = module_aliases(path, i == 0);
    bool named = matches(module_glob, module) || matches(module_glob, path);
    for (const std::string& a : aliases) named = named || matches(module_glob, a);
    if (!named) continue;
    auto& table = symbols[path];
    if (!table) table = std::make_unique<sys::ElfSymbols>(path);
    for (const sys::ElfSymbols::Sym& f : table->functions()) {
      uint64_t offset = 0;
      if (f.size == 0 || !matches(function_glob, f.name) || !table->code_offset_of(f.addr, offset))
        continue;
      if (out.size() == max) {
        error = "it matches more than " + std::to_string(max) +
                " functions (a uprobe each): name fewer";
        return false;
      }
      out.push_back({path, module, aliases, f.name, offset, f.addr, f.size});
    }
  }
  return true;
}

bool instruction_offsets(const FunctionSite& f, std::vector<uint64_t>& out, std::string& error) {
  out.clear();
  char start[32], stop[32];
  std::snprintf(start, sizeof start, "--start-address=0x%llx",
                static_cast<unsigned long long>(f.addr));
  std::snprintf(stop, sizeof stop, "--stop-address=0x%llx",
                static_cast<unsigned long long>(f.addr + f.size));
  int fds[2];
  if (pipe(fds) != 0) {
    error = "cannot run objdump";
    return false;
  }
  const pid_t child = fork();
  if (child == 0) {  // no shell: the path is passed as it is
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execlp("objdump", "objdump", "-d", "--no-show-raw-insn", start, stop, f.path.c_str(),
           static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;)
    text.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0) {
    error = "an offset probe needs objdump (binutils) to find the function's instructions";
    return false;
  }
  // "    1283:\tlea    (%rdi,%rdx,1),%rax": an instruction at 0x1283.
  size_t at = 0;
  while (at < text.size()) {
    const size_t end = std::min(text.find('\n', at), text.size());
    const std::string line = text.substr(at, end - at);
    at = end + 1;
    const size_t first = line.find_first_not_of(' ');
    const size_t colon = line.find(":\t");
    if (first == std::string::npos || colon == std::string::npos || colon <= first) continue;
    char* parsed = nullptr;
    const unsigned long long addr = std::strtoull(line.c_str() + first, &parsed, 16);
    if (parsed != line.c_str() + colon || addr < f.addr || addr >= f.addr + f.size) continue;
    out.push_back(addr - f.addr);
  }
  return true;
}

}  // namespace vtrace::targets::host
