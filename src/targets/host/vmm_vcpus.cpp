#include "targets/host/vmm_vcpus.h"

#include <cctype>
#include <exception>

#include "targets/qemu/vm_manager.h"

namespace vtrace::targets::host {

namespace {

// Skips a JSON string starting at s[i] == '"'; returns the index after its closing quote.
size_t skip_string(const std::string& s, size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\')
      ++i;
    else if (s[i] == '"')
      return i + 1;
  }
  return s.size();
}

// The integer after "key": at s[i] (after the key's closing quote), or -1.
long long int_value(const std::string& s, size_t i) {
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  if (i >= s.size() || s[i] != ':') return -1;
  ++i;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  long long v = 0;
  size_t digits = 0;
  for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && digits < 12; ++i) {
    v = v * 10 + (s[i] - '0');
    ++digits;
  }
  return digits > 0 ? v : -1;
}

}  // namespace

std::vector<VcpuThread> parse_query_cpus_fast(const std::string& reply, std::string& err) {
  std::vector<VcpuThread> out;
  if (reply.find("\"error\"") != std::string::npos &&
      reply.find("\"return\"") == std::string::npos) {
    err = "query-cpus-fast failed: " + reply.substr(0, 200);
    return out;
  }
  size_t at = reply.find("\"return\"");
  at = at == std::string::npos ? at : reply.find('[', at);
  if (at == std::string::npos) {
    err = "query-cpus-fast: unexpected reply: " + reply.substr(0, 200);
    return out;
  }
  // Walk the array: depth 1 is an element's top level, where its own keys are.
  int depth = 0;
  long long index = -1, tid = -1;
  for (size_t i = at + 1; i < reply.size();) {
    char c = reply[i];
    if (c == '"') {
      size_t end = skip_string(reply, i);
      if (depth == 1) {
        std::string key = reply.substr(i + 1, end - i - 2);
        if (key == "cpu-index") index = int_value(reply, end);
        if (key == "thread-id") tid = int_value(reply, end);
      }
      i = end;
      continue;
    }
    if (c == '{' || c == '[') {
      if (++depth == 1) index = tid = -1;
    } else if (c == '}' || c == ']') {
      if (depth == 0) break;  // the end of the array
      if (--depth == 0) {
        if (index < 0 || tid <= 0 || index > 4095 || tid > INT32_MAX) {
          err = "query-cpus-fast: an entry without cpu-index or thread-id";
          return {};
        }
        out.push_back({static_cast<uint32_t>(index), static_cast<int32_t>(tid)});
      }
    }
    ++i;
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
