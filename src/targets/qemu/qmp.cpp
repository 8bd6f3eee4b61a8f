#include "targets/qemu/qmp.h"

#include <nlohmann/json.hpp>

namespace vtrace::targets::qemu {

bool take_qmp_reply(std::string& buffer, std::string& reply) {
  for (auto nl = buffer.find('\n'); nl != std::string::npos; nl = buffer.find('\n')) {
    std::string line = buffer.substr(0, nl);
    buffer.erase(0, nl + 1);
    // A reply is an object with "return" or "error"; events ({"event": ...}) are skipped.
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && (j.contains("return") || j.contains("error"))) {
      reply = std::move(line);
      return true;
    }
  }
  return false;
}

}  // namespace vtrace::targets::qemu
