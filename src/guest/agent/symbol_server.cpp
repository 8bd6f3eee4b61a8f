#include "guest/agent/symbol_server.h"

#include <cinttypes>
#include <cstdlib>

#include "sys/elf_symbols.h"
#include "sys/kallsyms.h"
#include "sys/process_facts.h"

namespace vtrace::guest {

namespace {

bool parse_hex(const std::string& s, uint64_t& v) {
  if (s.empty() || s.size() > 16) return false;
  char* end = nullptr;
  v = std::strtoull(s.c_str(), &end, 16);
  return end != nullptr && *end == '\0';
}

bool parse_dec(const std::string& s, uint32_t& v) {
  if (s.empty() || s.size() > 10) return false;
  char* end = nullptr;
  const unsigned long long x = std::strtoull(s.c_str(), &end, 10);
  v = static_cast<uint32_t>(x);
  return end != nullptr && *end == '\0' && x <= UINT32_MAX;
}

std::string base_name(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

SymbolServer::SymbolServer() : kernel_(std::make_unique<sys::Kallsyms>()) {}

SymbolServer::~SymbolServer() = default;

void SymbolServer::new_image(uint32_t pid) {
  Image& img = images_[pid];
  img = Image{};
  img.number = ++last_number_[pid];
}

SymbolServer::Image& SymbolServer::image_of(uint32_t pid) {
  auto it = images_.find(pid);
  if (it != images_.end()) return it->second;
  new_image(pid);
  return images_[pid];
}

void SymbolServer::on_mmap(uint32_t pid, uint64_t start, uint64_t len, uint64_t pgoff,
                           const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (path.empty() || path[0] != '/') return;  // [vdso], anonymous JIT code: no file to read
  image_of(pid).maps.push_back({start, start + len, pgoff, path});
}

void SymbolServer::on_comm(uint32_t pid) {
  std::lock_guard<std::mutex> lock(mu_);
  new_image(pid);
}

void SymbolServer::on_fork(uint32_t pid, uint32_t parent) {
  std::lock_guard<std::mutex> lock(mu_);
  new_image(pid);
  auto it = images_.find(parent);
  if (it != images_.end()) images_[pid].maps = it->second.maps;  // the parent's image, copied
}

void SymbolServer::on_exit(uint32_t pid) {
  std::lock_guard<std::mutex> lock(mu_);
  images_.erase(pid);
}

void SymbolServer::read_proc_maps(uint32_t pid, Image& img) {
  img.read_proc = true;
  std::vector<sys::ExecMapping> maps;
  sys::read_exec_mappings(static_cast<pid_t>(pid), maps);
  for (sys::ExecMapping& m : maps)
    if (m.path[0] == '/') img.maps.push_back({m.start, m.end, m.offset, std::move(m.path)});
}

const sys::ElfSymbols* SymbolServer::file(const std::string& path) {
  auto it = files_.find(path);
  if (it != files_.end()) return it->second.get();
  if (files_.size() >= kMaxFiles) files_.clear();
  return (files_[path] = std::make_unique<sys::ElfSymbols>(path)).get();
}

SymbolServer::Named SymbolServer::name(uint32_t pid, const Image& img, uint64_t addr) {
  // The newest mapping holding addr (a later mmap over an older one wins).
  for (auto m = img.maps.rbegin(); m != img.maps.rend(); ++m) {
    if (addr < m->start || addr >= m->end) continue;
    Named n{base_name(m->path), "", 0};
    uint64_t vaddr = 0;
    // The path as the process sees it (its root: a container's files are not the agent's).
    const sys::ElfSymbols* f = file("/proc/" + std::to_string(pid) + "/root" + m->path);
    if (f->vaddr_of(addr - m->start + m->pgoff, vaddr) && f->lookup(vaddr, n.name, n.offset))
      return n;
    n.name.clear();
    n.offset = 0;
    return n;
  }
  return {};
}

uint32_t SymbolServer::name_user(uint32_t pid, const uint64_t* frames, size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  Image& img = image_of(pid);
  for (size_t i = 0; i < n; ++i) {
    const Key key{pid, img.number, frames[i]};
    if (named_.count(key) || named_.size() >= kMaxNamed) continue;
    Named got = name(pid, img, frames[i]);
    if (got.module.empty() && !img.read_proc) {
      read_proc_maps(pid, img);
      got = name(pid, img, frames[i]);
    }
    named_.emplace(key, std::move(got));
  }
  return img.number;
}

void SymbolServer::forget_named() {
  std::lock_guard<std::mutex> lock(mu_);
  named_.clear();
}

std::string SymbolServer::answer(const std::vector<std::string>& args) {
  std::string out;
  for (const std::string& a : args) {
    std::string module, name;
    uint64_t offset = 0, addr = 0;
    if (a.rfind("k:", 0) == 0 && parse_hex(a.substr(2), addr)) {
      const sys::SymbolAt s = kernel_->lookup(addr);
      if (!s.name.empty() && s.offset < kMaxKernelOffset) {
        module = s.module;
        name = s.name;
        offset = s.offset;
      }
    } else if (a.rfind("u:", 0) == 0) {
      const size_t c1 = a.find(':', 2);
      const size_t c2 = c1 == std::string::npos ? c1 : a.find(':', c1 + 1);
      uint32_t pid = 0, image = 0;
      if (c2 != std::string::npos && parse_dec(a.substr(2, c1 - 2), pid) &&
          parse_dec(a.substr(c1 + 1, c2 - c1 - 1), image) && parse_hex(a.substr(c2 + 1), addr)) {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = named_.find({pid, image, addr});
        if (it != named_.end()) {
          module = it->second.module;
          name = it->second.name;
          offset = it->second.offset;
        }
      }
    }
    char hex[24];
    std::snprintf(hex, sizeof hex, "%" PRIx64, offset);
    out += a + "\t" + module + "\t" + name + "\t" + hex + "\n";
  }
  return out;
}

}  // namespace vtrace::guest
