#include "targets/qemu/guest_symbolizer.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace vtrace::targets::qemu {

namespace {

// guest/agent/symbol_server.h's command; the agent links none of the host's code.
constexpr const char* kSymbolsCommand = "vtrace-agent:symbols";
// Arguments per request: the exec mailbox's argv holds 4096 bytes ("u:PID:IMAGE:ADDR" <= 41).
constexpr size_t kBatchBytes = 3800;
constexpr size_t kMaxNameLen = 256;

std::string arg_of(bool user, int32_t pid, uint32_t image, uint64_t addr) {
  char buf[64];
  if (user)
    std::snprintf(buf, sizeof buf, "u:%d:%u:%" PRIx64, pid, image, addr);
  else
    std::snprintf(buf, sizeof buf, "k:%" PRIx64, addr);
  return buf;
}

// A module or function name as the guest gives it: printable, no separators, bounded.
bool plain_name(const std::string& s) {
  if (s.size() > kMaxNameLen) return false;
  for (unsigned char c : s)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

}  // namespace

void GuestSymbolizer::add(uint32_t target, const ExecTarget& exec) {
  guests_[target].exec = exec;
}

bool GuestSymbolizer::parse_answer(const std::string& text, const std::vector<std::string>& asked,
                                   std::vector<engine::Symbol>& out) {
  out.clear();
  size_t pos = 0;
  for (const std::string& a : asked) {
    const size_t end = text.find('\n', pos);
    if (end == std::string::npos) return false;
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    // ARG \t MODULE \t NAME \t HEXOFFSET
    const size_t t1 = line.find('\t');
    const size_t t2 = t1 == std::string::npos ? t1 : line.find('\t', t1 + 1);
    const size_t t3 = t2 == std::string::npos ? t2 : line.find('\t', t2 + 1);
    if (t3 == std::string::npos || line.substr(0, t1) != a) return false;
    engine::Symbol s;
    s.module = line.substr(t1 + 1, t2 - t1 - 1);
    s.name = line.substr(t2 + 1, t3 - t2 - 1);
    const std::string off = line.substr(t3 + 1);
    char* stop = nullptr;
    s.offset = std::strtoull(off.c_str(), &stop, 16);
    if (off.empty() || off.size() > 16 || *stop != '\0') return false;
    // A name this host does not print (blanks, control bytes, too long): that address unknown.
    if (!plain_name(s.module) || !plain_name(s.name) || (s.module.empty() && !s.name.empty()))
      s = engine::Symbol{};
    out.push_back(std::move(s));
  }
  return pos == text.size();
}

void GuestSymbolizer::ask(Guest& g) {
  while (!g.wanted.empty() && !g.failed) {
    std::vector<Key> keys;
    ExecOptions o;
    o.argv = {kSymbolsCommand};
    o.timeout_s = 20;  // the first answer reads the guest's kallsyms (about a second under TCG)
    o.agent_wait_s = 2;
    o.traced = false;
    o.lock_wait_s = 5;  // a `vm exec` that runs longer holds the mailbox: addresses then
    size_t bytes = 0;
    for (auto it = g.wanted.begin(); it != g.wanted.end() && bytes < kBatchBytes;) {
      const auto& [user, pid, image, addr] = *it;
      o.argv.push_back(arg_of(user, pid, image, addr));
      bytes += o.argv.back().size() + 1;
      keys.push_back(*it);
      it = g.wanted.erase(it);
    }
    std::string why;
    std::vector<engine::Symbol> got;
    try {
      const ExecResult r = exec_command(g.exec, o);
      if (r.exit_status != 0 || r.truncated ||
          !parse_answer(r.output, {o.argv.begin() + 1, o.argv.end()}, got))
        why = "its agent's answer is not one this vtrace understands (an older agent?)";
    } catch (const std::exception& e) {
      why = e.what();
    }
    if (!why.empty()) {
      // Said once; its frames print as addresses from here on.
      std::fprintf(stderr, "vtrace: %s: no symbols for its stacks: %s\n", g.exec.vm_name.c_str(),
                   why.c_str());
      g.failed = true;
      return;
    }
    for (size_t i = 0; i < keys.size(); ++i) g.known[keys[i]] = std::move(got[i]);
  }
}

engine::Symbol GuestSymbolizer::lookup(uint32_t target, const Key& key) {
  auto gi = guests_.find(target);
  if (gi == guests_.end()) return {};
  Guest& g = gi->second;
  auto it = g.known.find(key);
  if (it != g.known.end()) return it->second;
  if (g.failed) return {};
  g.wanted.insert(key);
  ask(g);
  it = g.known.find(key);
  return it != g.known.end() ? it->second : engine::Symbol{};
}

engine::Symbol GuestSymbolizer::kernel(uint32_t target, uint64_t addr) {
  return lookup(target, {false, 0, 0, addr});
}

engine::Symbol GuestSymbolizer::user(const engine::UserSpace& space, uint64_t addr) {
  return lookup(space.target, {true, space.pid, space.image, addr});
}

void GuestSymbolizer::remember(bool user, const engine::UserSpace& space, const uint64_t* frames,
                               size_t n) {
  auto gi = guests_.find(space.target);
  if (gi == guests_.end() || gi->second.failed) return;
  for (size_t i = 0; i < n; ++i) {
    const Key key =
        user ? Key{true, space.pid, space.image, frames[i]} : Key{false, 0, 0, frames[i]};
    if (!gi->second.known.count(key)) gi->second.wanted.insert(key);
  }
}

}  // namespace vtrace::targets::qemu
