// The probe catalog: every probe of every target, with its id, and matching of probe
// descriptions against it. Providers that make probes on demand (profile:::tick-N) are asked
// first, so a description can name a probe that did not exist before.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bytecode/module.h"

namespace vtrace::engine {

struct ProbeInfo {
  uint32_t id = 0;
  std::string target;  // "host", a VM name, or a process ("pid4242")
  std::string provider, module, function, name;
  std::string alias;  // another name descriptions may use for the target (a process's name)
  std::string provider_alias;  // another name for the provider (dtrace's USDT "myapp1234")
  // Other names descriptions may use for the module (the pid provider's "libc" and "libc.so"
  // for libc.so.6, "a.out" for the executable).
  std::vector<std::string> module_aliases;
  std::string vmname;  // the vmname built-in: the VM's name; "host" for the host and processes

  std::string full_name() const { return provider + ":" + module + ":" + function + ":" + name; }
};

// Ids of the dtrace provider's probes, as in DTrace.
inline constexpr uint32_t kProbeBegin = 1;
inline constexpr uint32_t kProbeEnd = 2;
inline constexpr uint32_t kProbeError = 3;

class Catalog {
 public:
  Catalog();  // registers dtrace:::BEGIN, END, ERROR

  // `vmname` defaults to the target.
  uint32_t add(std::string target, std::string provider, std::string module, std::string function,
               std::string name, std::string alias = "", std::string vmname = "");
  const ProbeInfo& probe(uint32_t id) const { return probes_[id - 1]; }
  void set_provider_alias(uint32_t id, std::string alias) {
    probes_[id - 1].provider_alias = std::move(alias);
  }
  void set_module_aliases(uint32_t id, std::vector<std::string> aliases) {
    probes_[id - 1].module_aliases = std::move(aliases);
  }
  bool valid(uint32_t id) const { return id >= 1 && id <= probes_.size(); }
  const std::vector<ProbeInfo>& probes() const { return probes_; }
  // First id after which a probe was added (lets a provider know what it made).
  uint32_t next_id() const { return static_cast<uint32_t>(probes_.size() + 1); }

  // A provider hook called before matching, to create probes the description names.
  using OnDemand = std::function<void(const bytecode::ProbeSpec&, Catalog&)>;
  void add_on_demand(OnDemand hook) { on_demand_.push_back(std::move(hook)); }

  // Probes matching a description (empty fields match anything), in id order.
  std::vector<uint32_t> match(const bytecode::ProbeSpec& spec);

  // Whether a probe matches a description (no on-demand creation). The target field matches the
  // probe's target or its alias.
  static bool matches(const bytecode::ProbeSpec& spec, const ProbeInfo& p);

 private:
  std::vector<ProbeInfo> probes_;
  std::vector<OnDemand> on_demand_;
};

}  // namespace vtrace::engine
