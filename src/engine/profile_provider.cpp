#include "engine/profile_provider.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "engine/glob.h"

namespace vtrace::engine {

namespace {

constexpr uint64_t kMinPeriodNs = 10'000;  // 10 us: faster timers would only measure the timer

std::optional<uint64_t> unit_ns(std::string_view u, uint64_t n) {
  struct Unit {
    const char* name;
    uint64_t ns;
  };
  static const Unit units[] = {{"ns", 1},
                               {"nsec", 1},
                               {"us", 1000},
                               {"usec", 1000},
                               {"ms", 1000000},
                               {"msec", 1000000},
                               {"s", 1000000000},
                               {"sec", 1000000000},
                               {"m", 60000000000},
                               {"min", 60000000000},
                               {"h", 3600000000000},
                               {"hour", 3600000000000},
                               {"d", 86400000000000},
                               {"day", 86400000000000}};
  if (u.empty() || u == "hz") {
    if (n == 0) return std::nullopt;
    return 1000000000ull / n;
  }
  for (const auto& unit : units)
    if (u == unit.name) {
      if (n > UINT64_MAX / unit.ns) return std::nullopt;
      return n * unit.ns;
    }
  return std::nullopt;
}

}  // namespace

ProfileProvider::ProfileProvider(Catalog& catalog) : catalog_(catalog) {
  for (const char* name :
       {"profile-97", "profile-199", "profile-499", "profile-997", "profile-1999", "profile-4001",
        "profile-4999", "tick-1", "tick-10", "tick-100", "tick-500", "tick-1000", "tick-5000",
        "tick-1sec", "tick-10sec"})
    catalog.add("host", "profile", "", "", name);
  catalog.add_on_demand([](const bytecode::ProbeSpec& spec, Catalog& cat) {
    // Only a literal name can create a probe, and only if the provider field can be "profile".
    if (spec.name.empty() || has_glob_chars(spec.name)) return;
    if (!spec.provider.empty() && !glob_match(spec.provider, "profile")) return;
    if (!spec.module.empty() || !spec.function.empty()) return;
    if (!parse_period(spec.name)) return;
    for (const auto& p : cat.probes())
      if (p.provider == "profile" && p.name == spec.name) return;
    cat.add("host", "profile", "", "", spec.name);
  });
}

std::optional<uint64_t> ProfileProvider::parse_period(std::string_view name) {
  std::string_view rest;
  if (name.substr(0, 5) == "tick-")
    rest = name.substr(5);
  else if (name.substr(0, 8) == "profile-")
    rest = name.substr(8);
  else
    return std::nullopt;
  size_t i = 0;
  uint64_t n = 0;
  while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
    if (n > (UINT64_MAX - 9) / 10) return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(rest[i] - '0');
    ++i;
  }
  if (i == 0) return std::nullopt;
  auto ns = unit_ns(rest.substr(i), n);
  if (!ns || *ns < kMinPeriodNs) return std::nullopt;
  return ns;
}

std::optional<uint64_t> ProfileProvider::sample_period(const ProbeInfo& p) {
  if (p.target != "host" || p.provider != "profile" || p.name.rfind("profile-", 0) != 0)
    return std::nullopt;
  return parse_period(p.name);
}

void ProfileProvider::arm(const std::vector<uint32_t>& probe_ids, uint64_t now_ns) {
  timers_.clear();
  for (uint32_t id : probe_ids) {
    const ProbeInfo& p = catalog_.probe(id);
    // profile-N: sampled; a guest's profile probes are its agent's.
    if (p.target != "host" || p.provider != "profile" || sample_period(p)) continue;
    if (auto period = parse_period(p.name)) timers_.push_back({id, *period, now_ns + *period});
  }
}

uint64_t ProfileProvider::next_deadline() const {
  uint64_t next = UINT64_MAX;
  for (const auto& t : timers_) next = std::min(next, t.next);
  return next;
}

void ProfileProvider::collect_due(uint64_t now_ns, std::vector<uint32_t>& fired) {
  // Fire in deadline order; a timer late by several periods fires once and skips ahead, as a
  // cyclic timer does when its handler is late.
  std::vector<std::pair<uint64_t, uint32_t>> due;
  for (auto& t : timers_) {
    if (t.next > now_ns) continue;
    due.push_back({t.next, t.probe});
    uint64_t missed = (now_ns - t.next) / t.period;
    t.next += (missed + 1) * t.period;
  }
  std::sort(due.begin(), due.end());
  for (const auto& d : due) fired.push_back(d.second);
}

}  // namespace vtrace::engine
