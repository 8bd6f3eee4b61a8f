// libFuzzer target: arbitrary bytes as the two sides of a guest symbol request
// (guest/agent/symbol_server.h), what the host asks a guest's agent to name the frames of its
// stacks.
//
// The first byte picks the side:
//   even: the host reading an agent's answer (targets::qemu::GuestSymbolizer::parse_answer) to
//         three fixed questions: the rest is the answer's text, as a guest may have written it.
//   odd:  the agent answering the host (guest::SymbolServer::answer): the rest, split at '\n'
//         (at most 64 pieces), is the request's arguments.
//
// Invariants: no crash, hang or sanitizer report; an accepted answer names every question, each
// module and name printable without blanks and at most 256 bytes, a name only with a module;
// the agent answers one line per argument, each starting with the argument and a tab.
//
// Seeds: fuzz/corpus/symbols/ (fuzz/make_seeds.py). Run: see fuzz/CMakeLists.txt.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/symbolizer.h"
#include "fuzz_check.h"
#include "guest/agent/symbol_server.h"
#include "targets/qemu/guest_symbolizer.h"

namespace {

bool plain(const std::string& s) {
  if (s.size() > 256) return false;
  for (unsigned char c : s)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

void fuzz_answer(const std::string& text) {
  static const std::vector<std::string> asked = {"k:ffffffff81000010", "u:7:1:401000",
                                                 "u:7:2:401000"};
  std::vector<vtrace::engine::Symbol> out;
  if (!vtrace::targets::qemu::GuestSymbolizer::parse_answer(text, asked, out)) return;
  CHECK(out.size() == asked.size());
  for (const auto& s : out) {
    CHECK(plain(s.module) && plain(s.name));
    CHECK(!s.module.empty() || s.name.empty());
  }
}

void fuzz_request(const std::string& text) {
  static vtrace::guest::SymbolServer server;
  std::vector<std::string> args;
  size_t pos = 0;
  while (pos <= text.size() && args.size() < 64) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    args.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  const std::string out = server.answer(args);
  pos = 0;
  for (const std::string& a : args) {
    CHECK(out.compare(pos, a.size() + 1, a + "\t") == 0);
    const size_t end = out.find('\n', pos + a.size() + 1);
    CHECK(end != std::string::npos);
    pos = end + 1;
  }
  CHECK(pos == out.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0)
    fuzz_answer(rest);
  else
    fuzz_request(rest);
  return 0;
}
