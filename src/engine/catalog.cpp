#include "engine/catalog.h"

#include "engine/glob.h"

namespace vtrace::engine {

Catalog::Catalog() {
  add("host", "dtrace", "", "", "BEGIN");
  add("host", "dtrace", "", "", "END");
  add("host", "dtrace", "", "", "ERROR");
}

uint32_t Catalog::add(std::string target, std::string provider, std::string module,
                      std::string function, std::string name, std::string alias,
                      std::string vmname) {
  ProbeInfo p;
  p.id = next_id();
  p.target = std::move(target);
  p.provider = std::move(provider);
  p.module = std::move(module);
  p.function = std::move(function);
  p.name = std::move(name);
  p.alias = std::move(alias);
  p.vmname = vmname.empty() ? p.target : std::move(vmname);
  probes_.push_back(std::move(p));
  return probes_.back().id;
}

bool Catalog::matches(const bytecode::ProbeSpec& s, const ProbeInfo& p) {
  auto field = [](const std::string& pat, const std::string& value) {
    return pat.empty() || glob_match(pat, value);
  };
  bool target = field(s.target, p.target) || (!p.alias.empty() && field(s.target, p.alias));
  bool provider = field(s.provider, p.provider) ||
                  (!p.provider_alias.empty() && field(s.provider, p.provider_alias));
  bool module = field(s.module, p.module);
  for (const std::string& a : p.module_aliases) module = module || field(s.module, a);
  return target && provider && module && field(s.function, p.function) && field(s.name, p.name);
}

std::vector<uint32_t> Catalog::match(const bytecode::ProbeSpec& spec) {
  for (auto& hook : on_demand_) hook(spec, *this);
  std::vector<uint32_t> ids;
  for (const auto& p : probes_)
    if (matches(spec, p)) ids.push_back(p.id);
  return ids;
}

}  // namespace vtrace::engine
