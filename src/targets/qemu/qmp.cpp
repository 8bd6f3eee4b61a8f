#include "targets/qemu/qmp.h"

namespace vtrace::targets::qemu {

bool take_qmp_reply(std::string& buffer, std::string& reply) {
  for (auto nl = buffer.find('\n'); nl != std::string::npos; nl = buffer.find('\n')) {
    std::string line = buffer.substr(0, nl);
    buffer.erase(0, nl + 1);
    if (line.find("\"return\"") != std::string::npos ||
        line.find("\"error\"") != std::string::npos) {
      reply = std::move(line);
      return true;
    }
  }
  return false;
}

}  // namespace vtrace::targets::qemu
