#include "guest/guest_programs.h"

#include <elf.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace vtrace::guest {

namespace {

std::string self_dir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : exe.parent_path().string();
}

bool is_elf(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::memcmp(magic, ELFMAG, SELFMAG) == 0;
}

}  // namespace

std::string static_elf_problem(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot read it";
  Elf64_Ehdr eh{};
  if (!in.read(reinterpret_cast<char*>(&eh), sizeof eh) ||
      std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
    return "not an ELF file";
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64)
    return "not an x86-64 ELF file";
  if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) return "not an executable";
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0) return "no program headers";
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph{};
    in.seekg(static_cast<std::streamoff>(eh.e_phoff + uint64_t{i} * sizeof ph));
    if (!in.read(reinterpret_cast<char*>(&ph), sizeof ph)) return "truncated program headers";
    if (ph.p_type == PT_INTERP)
      return "dynamically linked (it has a program interpreter; a sanitizer build makes such "
             "programs)";
  }
  return {};
}

std::vector<std::pair<std::string, std::string>> find_guest_programs(std::string* note) {
  const std::string dir = self_dir();
  std::vector<std::pair<std::string, std::string>> files;

  std::string agent;
  if (const char* e = std::getenv("VTRACE_AGENT"); e && *e) {
    agent = e;
    if (!fs::is_regular_file(agent))
      throw std::runtime_error("$VTRACE_AGENT names no file: " + agent);
  } else {
    for (const std::string& p : {dir + "/vtrace-agent", dir + "/../lib/vtrace/vtrace-agent"})
      if (fs::is_regular_file(p)) {
        agent = p;
        break;
      }
    if (agent.empty())
      throw std::runtime_error(
          "the guest agent was not found (looked for " + dir +
          "/vtrace-agent): build it with `cmake --build " + dir +
          " --target vtrace-agent`, or set $VTRACE_AGENT to a static vtrace-agent");
  }
  if (std::string why = static_elf_problem(agent); !why.empty())
    throw std::runtime_error("the guest agent " + agent + " cannot run in a guest: " + why +
                             "; guests have no shared libraries: use the vtrace-agent of a "
                             "non-sanitizer build ($VTRACE_AGENT=PATH)");
  files.emplace_back(agent, "/sbin/vtrace-agent");

  std::string bin_dir;
  if (const char* e = std::getenv("VTRACE_GUEST_BIN_DIR"); e && *e) {
    bin_dir = e;
    if (!fs::is_directory(bin_dir))
      throw std::runtime_error("$VTRACE_GUEST_BIN_DIR is not a directory: " + bin_dir);
  } else {
    for (const std::string& p : {dir + "/examples/guest", dir + "/../lib/vtrace/guest"})
      if (fs::is_directory(p)) {
        bin_dir = p;
        break;
      }
  }
  if (bin_dir.empty()) {
    if (note) *note = "no guest workloads (looked for " + dir + "/examples/guest)";
    return files;
  }
  // Every ELF executable there goes to /bin; "reqloop-static" becomes /bin/reqloop.
  std::vector<fs::path> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(bin_dir, ec))
    if (entry.is_regular_file() && access(entry.path().c_str(), X_OK) == 0 && is_elf(entry.path()))
      found.push_back(entry.path());
  std::sort(found.begin(), found.end());  // stable image inputs
  std::string names;
  for (const fs::path& p : found) {
    if (std::string why = static_elf_problem(p.string()); !why.empty())
      throw std::runtime_error("the guest workload " + p.string() +
                               " cannot run in a guest: " + why);
    std::string name = p.filename().string();
    const std::string suffix = "-static";
    if (name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      name.resize(name.size() - suffix.size());
    files.emplace_back(p.string(), "/bin/" + name);
    names += (names.empty() ? "" : " ") + name;
  }
  if (note)
    *note = found.empty() ? "no guest workloads in " + bin_dir
                          : "guest workloads from " + bin_dir + ": " + names;
  return files;
}

}  // namespace vtrace::guest
