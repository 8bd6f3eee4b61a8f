#include "bpf/gather_parse.h"

#include "bpf/gather_layout.h"

namespace vtrace::bpf {
namespace {

// A stack section's valid part: len bytes (or an error, < 0: no frames) of room frames.
bool frames(const uint8_t* base, int32_t len, uint16_t room, GatherFrames& out) {
  out = {};
  if (len < 0) return true;  // bpf_get_stack() failed: the record is fine, the stack is absent
  if (len % 8 != 0 || static_cast<uint32_t>(len) > uint32_t{room} * 8) return false;
  out = {base, static_cast<size_t>(len) / 8};
  return true;
}

}  // namespace

bool parse_gather_record(const uint8_t* bytes, size_t len, const GatherPlan& plan,
                         GatherView& out) {
  const GatherLayout l = gather_layout(plan);
  if (bytes == nullptr || len != l.size || len < sizeof(GatherHeader)) return false;
  memcpy(&out.header, bytes, sizeof(GatherHeader));
  const GatherHeader& h = out.header;
  if (h.probe != plan.probe) return false;
  if (h.data_len > l.data_room) return false;
  out.data = bytes + l.data_offset;
  out.data_len = h.data_len;

  out.strings.resize(plan.strings.size());
  for (size_t i = 0; i < plan.strings.size(); ++i) {
    const uint8_t* slot = bytes + l.string_offset(i);
    GatherString s;
    memcpy(&s, slot, sizeof(s));
    GatherStringView& v = out.strings[i];
    v = {s.addr, s.max, s.len, {}, plan.strings[i].bytes};
    if (plan.strsize == 0 || s.max > plan.strsize - 1) return false;
    if (v.bytes) {
      // All max bytes, or nothing: a partial copy would be a silently short one.
      if (s.len > 0 && static_cast<uint32_t>(s.len) != s.max) return false;
      if (s.len > 0)
        v.str = std::string_view(reinterpret_cast<const char*>(slot) + sizeof(s), s.len);
      continue;
    }
    if (s.len > 0) {
      // The read copies at most max bytes and a NUL, and its last byte is that NUL.
      if (static_cast<uint32_t>(s.len) > s.max + 1) return false;
      const char* str = reinterpret_cast<const char*>(slot + sizeof(GatherString));
      if (str[s.len - 1] != '\0') return false;
      v.str = std::string_view(str, strnlen(str, s.len - 1));
    }
  }
  return frames(bytes + l.kstack_offset, h.kstack_len, plan.kernel_frames, out.kstack) &&
         frames(bytes + l.ustack_offset, h.ustack_len, plan.user_frames, out.ustack);
}

}  // namespace vtrace::bpf
