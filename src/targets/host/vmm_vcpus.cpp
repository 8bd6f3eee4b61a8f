#include "targets/host/vmm_vcpus.h"

#include <cstdint>
#include <exception>
#include <nlohmann/json.hpp>

#include "targets/qemu/vm_manager.h"

namespace vtrace::targets::host {

std::vector<VcpuThread> parse_query_cpus_fast(const std::string& reply, std::string& err) {
  std::vector<VcpuThread> out;
  const nlohmann::json j = nlohmann::json::parse(reply, nullptr, false);
  if (j.is_object() && j.contains("error") && !j.contains("return")) {
    err = "query-cpus-fast failed: " + reply.substr(0, 200);
    return out;
  }
  const auto list = j.is_object() ? j.find("return") : j.end();
  if (list == j.end() || !list->is_array()) {
    err = "query-cpus-fast: unexpected reply: " + reply.substr(0, 200);
    return out;
  }
  for (const auto& e : *list) {
    // Only each element's own keys: x86's "props" holds an SMT "thread-id" too.
    const auto index = e.is_object() ? e.find("cpu-index") : e.end();
    const auto tid = e.is_object() ? e.find("thread-id") : e.end();
    if (index == e.end() || tid == e.end() || !index->is_number_integer() ||
        !tid->is_number_integer() || index->get<int64_t>() < 0 || index->get<int64_t>() > 4095 ||
        tid->get<int64_t>() <= 0 || tid->get<int64_t>() > INT32_MAX) {
      err = "query-cpus-fast: an entry without cpu-index or thread-id";
      return {};
    }
    out.push_back(
        {static_cast<uint32_t>(index->get<int64_t>()), static_cast<int32_t>(tid->get<int64_t>())});
  }
  if (out.empty()) err = "query-cpus-fast: the VM reports no vCPU";
  return out;
}

std::vector<VcpuThread> query_vcpu_threads(const std::string& vm, std::string& err) {
  std::string reply;
  try {
    reply = qemu::qmp_execute(vm, R"({"execute": "query-cpus-fast"})");
  } catch (const std::exception& e) {
    err = e.what();
    return {};
  }
  return parse_query_cpus_fast(reply, err);
}

}  // namespace vtrace::targets::host
