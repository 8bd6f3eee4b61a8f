// QMP, QEMU's JSON control socket, as vm_manager reads it: QEMU writes one JSON object per line,
// and the reply to a command is the first line with "return" or "error" in it; asynchronous
// events ({"event": ...}) that come before it are skipped.
#pragma once
#include <string>

namespace vtrace::targets::qemu {

// Takes complete lines off the front of `buffer` (what was read from the socket so far) until
// one is a reply: true with that line (without its newline) in `reply`. False when no complete
// line left in `buffer` is one; what stays in `buffer` is then an incomplete line.
bool take_qmp_reply(std::string& buffer, std::string& reply);

}  // namespace vtrace::targets::qemu
