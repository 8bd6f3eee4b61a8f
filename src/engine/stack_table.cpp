#include "engine/stack_table.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace vtrace::engine {

namespace {

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

}  // namespace

int64_t StackTable::intern(bool user, uint32_t target, int32_t pid, const uint64_t* frames,
                           size_t n, int32_t error) {
  // A kernel stack is the same stack whichever process it ran for; a user stack is not.
  if (!user) pid = 0;
  std::string key;
  key.reserve(16 + n * 8);
  key.push_back(user ? 'u' : 'k');
  key.append(reinterpret_cast<const char*>(&target), sizeof target);
  key.append(reinterpret_cast<const char*>(&pid), sizeof pid);
  key.append(reinterpret_cast<const char*>(&error), sizeof error);
  key.append(reinterpret_cast<const char*>(frames), n * sizeof(uint64_t));
  auto it = ids_.find(key);
  if (it != ids_.end()) return it->second;
  if (stacks_.size() >= capacity_) {
    ++drops_;
    return 0;
  }
  if (user && symbolizer_ != nullptr) symbolizer_->remember(target, pid, frames, n);
  stacks_.push_back(Stack{user, target, pid, error, std::vector<uint64_t>(frames, frames + n)});
  const int64_t id = static_cast<int64_t>(stacks_.size());
  ids_.emplace(std::move(key), id);
  return id;
}

std::string StackTable::frame_text(const Stack& s, uint64_t pc) const {
  if (symbolizer_ == nullptr) return hex(pc);
  Symbol sym = s.user ? symbolizer_->user(s.target, s.pid, pc) : symbolizer_->kernel(s.target, pc);
  if (sym.name.empty()) return sym.module.empty() ? hex(pc) : sym.module + "`" + hex(pc);
  std::string t = sym.module + "`" + sym.name;
  if (sym.offset != 0) t += "+" + hex(sym.offset);
  return t;
}

std::string StackTable::text(int64_t id, int indent) const {
  std::string out;
  const std::string pad(static_cast<size_t>(indent), ' ');
  if (id <= 0 || static_cast<size_t>(id) > stacks_.size()) {
    out += pad + "<stack dropped: too many distinct stacks>\n";
    return out;
  }
  const Stack& s = stacks_[static_cast<size_t>(id - 1)];
  for (uint64_t pc : s.frames) out += pad + frame_text(s, pc) + "\n";
  if (s.error < 0)
    out += pad + "<" + (s.user ? "user" : "kernel") +
           " stack not unwound: " + std::strerror(-s.error) + ">\n";
  return out;
}

std::string StackTable::symbol_text(char kind, bool user, uint32_t target, int32_t pid,
                                    uint64_t addr, bool with_offset) const {
  if (symbolizer_ == nullptr) return hex(addr);
  Symbol sym = user ? symbolizer_->user(target, pid, addr) : symbolizer_->kernel(target, addr);
  if (kind == 'm') return sym.module.empty() ? hex(addr) : sym.module;
  if (sym.name.empty()) return hex(addr);
  std::string t = sym.module + "`" + sym.name;
  if (with_offset && sym.offset != 0) t += "+" + hex(sym.offset);
  return t;
}

}  // namespace vtrace::engine
