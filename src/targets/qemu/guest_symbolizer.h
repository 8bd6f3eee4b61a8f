// Guests' symbols for the engine's stacks (stack(), ustack(), func(), ...): a guest's addresses
// mean something only inside it (its kernel's KASLR slide and modules, its processes'
// mappings), so they are asked of its agent (guest/agent/symbol_server.h) through the exec
// mailbox, in batches: every address of the stacks gathered so far at the first lookup, then
// what is new. The answers are the guest's word: checked for shape, used only for that guest's
// frames. A guest that cannot answer (no agent, an old one) prints addresses, said once.
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "engine/symbolizer.h"
#include "targets/qemu/exec_client.h"

namespace vtrace::targets::qemu {

class GuestSymbolizer : public engine::Symbolizer {
 public:
  // The guest that is catalog target `target`, reached through `exec`.
  void add(uint32_t target, const ExecTarget& exec);

  engine::Symbol kernel(uint32_t target, uint64_t addr) override;
  engine::Symbol user(const engine::UserSpace& space, uint64_t addr) override;
  void remember(bool user, const engine::UserSpace& space, const uint64_t* frames,
                size_t n) override;

  // Parses an agent's answer to `asked` into `out` (same order); false when its shape is
  // wrong (then nothing is believed); a name that cannot be printed as it is makes that address
  // unknown. Exposed for tests and the fuzzer.
  static bool parse_answer(const std::string& text, const std::vector<std::string>& asked,
                           std::vector<engine::Symbol>& out);

 private:
  // user, pid, image (0, 0: kernel), address
  using Key = std::tuple<bool, int32_t, uint32_t, uint64_t>;
  struct Guest {
    ExecTarget exec;
    std::map<Key, engine::Symbol> known;
    std::set<Key> wanted;  // remembered, not asked yet
    bool failed = false;
  };
  engine::Symbol lookup(uint32_t target, const Key& key);
  void ask(Guest& g);

  std::map<uint32_t, Guest> guests_;
};

}  // namespace vtrace::targets::qemu
