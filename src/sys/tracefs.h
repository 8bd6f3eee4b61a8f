// tracefs: where it is mounted (mounting it at /sys/kernel/tracing when absent), the list of
// trace events, and each event's id and record layout from its `format` file.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vtrace::sys {

// One field of a trace event record, as its format file describes it.
struct EventField {
  std::string name;
  std::string type;  // as written: "pid_t", "char[16]" (from "char prev_comm[16]"), ...
  uint32_t offset = 0;
  uint32_t size = 0;
  bool is_signed = false;
  bool data_loc = false;    // "__data_loc char[] name": a u32 (len << 16 | offset) in the record
  bool char_array = false;  // "char name[N]": a NUL-terminated string of at most N bytes
  bool is_string() const { return data_loc || char_array; }
  bool is_common() const { return name.rfind("common_", 0) == 0; }
};

struct EventFormat {
  std::string system, name;
  uint64_t id = 0;
  std::vector<EventField> fields;  // common_* first, in file order
  std::string print_fmt;

  const EventField* field(std::string_view n) const;
  // The fields after the common ones (the tracepoint's own arguments).
  std::vector<const EventField*> args() const;
  // Bytes a record needs for every fixed field (offset + size of the last one).
  uint32_t fixed_size() const;
};

// Parses a format file's text. Returns nothing (and sets err) when it has no name/ID/fields or a
// field line is malformed.
std::optional<EventFormat> parse_format(std::string_view text, std::string& err);

// The {value, "NAME"} pairs of each __print_symbolic(...) in a print fmt, in order (kvm_exit has
// one table for VMX and one for SVM). Values may be written "0x040 + 13".
std::vector<std::map<int64_t, std::string>> print_symbolic_tables(std::string_view print_fmt);

// Appends `line` to a tracefs control file (kprobe_events, dynamic_events) in one write, as the
// kernel wants a definition. "" or an error naming the line and the file.
std::string append_line(const std::string& path, const std::string& line);

class Tracefs {
 public:
  // Finds tracefs (/sys/kernel/tracing, /sys/kernel/debug/tracing, or another mount in
  // /proc/mounts); mounts it at /sys/kernel/tracing when absent. False with a message naming the
  // cause and the fix when it is not usable.
  bool open(std::string& err);
  const std::string& root() const { return root_; }

  // Every "system/event" under events/, sorted (cached after the first call).
  const std::vector<std::pair<std::string, std::string>>& events();
  bool exists(const std::string& system, const std::string& event) const;
  // The event's format (cached). Nothing, with err set, when it cannot be read.
  const EventFormat* format(const std::string& system, const std::string& event, std::string& err);

 private:
  std::string root_;
  std::vector<std::pair<std::string, std::string>> events_;
  bool listed_ = false;
  std::map<std::string, EventFormat> formats_;
};

}  // namespace vtrace::sys
