#include "guest/agent/probe_table.h"

#include <cstring>

#include "guest/agent/agent_log.h"
#include "guest/agent/bar_mapping.h"

namespace vtrace::guest {

void GuestProbeTable::attach(vtrace_guest_header* h, vtrace_guest_probe* entries,
                             uint32_t max_probes) {
  h_ = h;
  entries_ = entries;
  max_ = max_probes;
  count_ = published_ = 0;
  gen_ = h->table_gen;
  full_reported_ = false;
}

uint32_t GuestProbeTable::add(uint32_t kind, int32_t pid, uint16_t nargs, uint16_t flags,
                              const std::string& provider, const std::string& module,
                              const std::string& function, const std::string& name) {
  if (count_ >= max_) {
    if (!full_reported_) {
      full_reported_ = true;
      std::string msg = "probe table full (" + std::to_string(max_) + " entries)";
      set_agent_error(h_, msg);
      log_error("%s", msg.c_str());
    }
    return kNoEntry;
  }
  vtrace_guest_probe e;
  std::memset(&e, 0, sizeof e);
  e.kind = kind;
  e.pid = pid;
  e.nargs = nargs > VTRACE_MAX_ARGS ? VTRACE_MAX_ARGS : nargs;
  e.flags = flags;
  copy_field(e.provider, sizeof e.provider, provider);
  copy_field(e.module, sizeof e.module, module);
  copy_field(e.function, sizeof e.function, function);
  copy_field(e.name, sizeof e.name, name);
  std::memcpy(&entries_[count_], &e, sizeof e);
  return count_++;
}

uint32_t GuestProbeTable::publish() {
  if (count_ != published_) {
    published_ = count_;
    __atomic_store_n(&h_->probe_count, published_, __ATOMIC_RELEASE);
    __atomic_store_n(&h_->table_gen, ++gen_, __ATOMIC_RELEASE);
  }
  return gen_;
}

}  // namespace vtrace::guest
