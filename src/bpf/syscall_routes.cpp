#include "bpf/syscall_routes.h"

#include "bpf/clause_program.h"
#include "bpf/program.h"

namespace vtrace::bpf {

int SyscallRoutes::data_fd(uint32_t owner, SyscallSide side, const KernelLayout& layout,
                           std::string& err) {
  Owner& o = owners_[{owner, side}];
  if (!o.dispatch && !(o.dispatch = SyscallDispatch::create(side, layout, err))) return -1;
  if (!o.data.valid()) {
    o.data = create_map(BPF_MAP_TYPE_PERCPU_ARRAY, "vt_sys_data", 4, kSyscallDataSize, 1,
                        std::string("the ") + raw_tracepoint_of(side) + " record buffer", err);
    if (!o.data.valid()) return -1;
  }
  return o.data.get();
}

bool SyscallRoutes::route(uint32_t owner, SyscallSide side, uint32_t nr,
                          const std::vector<bpf_insn>& insns, const std::string& what,
                          std::string& err) {
  auto it = owners_.find({owner, side});
  if (it == owners_.end() || !it->second.dispatch) {
    err = "routing " + what + ": its dispatcher was not created";
    return false;
  }
  Owner& o = it->second;
  std::string key(reinterpret_cast<const char*>(insns.data()), insns.size() * sizeof(bpf_insn));
  auto prog = o.progs.find(key);
  if (prog == o.progs.end()) {
    sys::UniqueFd fd = load_program(BPF_PROG_TYPE_RAW_TRACEPOINT, insns, "vt_clause", what, err);
    if (!fd.valid()) return false;
    prog = o.progs.emplace(std::move(key), std::move(fd)).first;
  }
  return o.dispatch->route(nr, prog->second.get(), 0, err);
}

bool SyscallRoutes::attach(std::string& err) {
  for (auto& [key, o] : owners_)
    if (o.dispatch && o.dispatch->routed() && !o.dispatch->attach(err)) return false;
  return true;
}

void SyscallRoutes::detach() {
  for (auto& [key, o] : owners_)
    if (o.dispatch) o.dispatch->detach();
}

}  // namespace vtrace::bpf
