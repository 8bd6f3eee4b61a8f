#include "sys/tracefs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace vtrace::sys {

namespace {

bool read_text(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

bool is_dir(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// "key:value;" at the front of s; advances s past the ';'.
bool take_attr(std::string_view& s, std::string_view key, std::string_view& value) {
  s = trim(s);
  if (s.substr(0, key.size()) != key || s.size() <= key.size() || s[key.size()] != ':')
    return false;
  s.remove_prefix(key.size() + 1);
  size_t semi = s.find(';');
  if (semi == std::string_view::npos) return false;
  value = trim(s.substr(0, semi));
  s.remove_prefix(semi + 1);
  return true;
}

bool to_u32(std::string_view v, uint32_t& out) {
  if (v.empty() || v.size() > 9) return false;
  uint32_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint32_t>(c - '0');
  }
  out = n;
  return true;
}

bool ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// "char prev_comm[16]" -> name prev_comm, type "char[16]"; "__data_loc char[] filename" ->
// filename, "__data_loc char[]".
bool split_decl(std::string_view decl, EventField& f) {
  decl = trim(decl);
  std::string_view array;
  if (!decl.empty() && decl.back() == ']') {
    size_t open = decl.rfind('[');
    if (open == std::string_view::npos) return false;
    array = decl.substr(open);
    decl = trim(decl.substr(0, open));
  }
  size_t end = decl.size();
  size_t start = end;
  while (start > 0 && ident_char(decl[start - 1])) --start;
  if (start == end) return false;
  f.name = std::string(decl.substr(start));
  std::string type(trim(decl.substr(0, start)));
  if (type.empty()) return false;
  f.type = type + std::string(array);
  f.data_loc = type.rfind("__data_loc", 0) == 0 || type.rfind("__rel_loc", 0) == 0;
  f.char_array = !f.data_loc && !array.empty() &&
                 (type == "char" || type == "const char" || type == "unsigned char");
  return true;
}

int64_t parse_int_expr(std::string_view s, bool& ok) {
  // NUM [+ NUM ...], each decimal or 0x hex, optionally negative.
  int64_t total = 0;
  ok = false;
  for (;;) {
    s = trim(s);
    bool neg = false;
    if (!s.empty() && s[0] == '-') {
      neg = true;
      s.remove_prefix(1);
    }
    int base = 10;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
      base = 16;
      s.remove_prefix(2);
    }
    size_t i = 0;
    uint64_t n = 0;
    for (; i < s.size(); ++i) {
      char c = s[i];
      int d = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : 99;
      if (d >= base) break;
      n = n * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
    }
    if (i == 0) return 0;
    // Modulo 2^64, as the kernel's C does: -0x8000000000000000 or a sum past INT64_MAX would
    // otherwise be a signed overflow (undefined behaviour).
    total = static_cast<int64_t>(static_cast<uint64_t>(total) + (neg ? 0 - n : n));
    s = trim(s.substr(i));
    if (s.empty()) {
      ok = true;
      return total;
    }
    if (s[0] != '+') return 0;
    s.remove_prefix(1);
  }
}

}  // namespace

const EventField* EventFormat::field(std::string_view n) const {
  for (const auto& f : fields)
    if (f.name == n) return &f;
  return nullptr;
}

std::vector<const EventField*> EventFormat::args() const {
  std::vector<const EventField*> out;
  for (const auto& f : fields)
    if (!f.is_common() && f.name != "__syscall_nr") out.push_back(&f);
  return out;
}

uint32_t EventFormat::fixed_size() const {
  uint32_t end = 0;
  for (const auto& f : fields) end = std::max(end, f.offset + f.size);
  return end;
}

std::optional<EventFormat> parse_format(std::string_view text, std::string& err) {
  EventFormat fmt;
  bool have_id = false;
  size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    std::string_view t = trim(line);
    if (t.rfind("name:", 0) == 0) {
      fmt.name = std::string(trim(t.substr(5)));
    } else if (t.rfind("ID:", 0) == 0) {
      uint32_t id = 0;
      if (!to_u32(trim(t.substr(3)), id)) {
        err = "line " + std::to_string(line_no) + ": bad ID";
        return std::nullopt;
      }
      fmt.id = id;
      have_id = true;
    } else if (t.rfind("print fmt:", 0) == 0) {
      fmt.print_fmt = std::string(trim(t.substr(10)));
    } else if (t.rfind("field:", 0) == 0) {
      std::string_view rest = t;
      std::string_view decl, off, size, sign;
      EventField f;
      if (!take_attr(rest, "field", decl) || !take_attr(rest, "offset", off) ||
          !take_attr(rest, "size", size) || !split_decl(decl, f) || !to_u32(off, f.offset) ||
          !to_u32(size, f.size)) {
        err = "line " + std::to_string(line_no) + ": malformed field: " + std::string(t);
        return std::nullopt;
      }
      if (take_attr(rest, "signed", sign)) f.is_signed = sign == "1";
      if (f.offset > 0xffff || f.size > 0xffff) {  // size 0: a flexible array (char buf[])
        err = "line " + std::to_string(line_no) + ": field " + f.name + " out of range";
        return std::nullopt;
      }
      fmt.fields.push_back(std::move(f));
    }
  }
  if (fmt.name.empty() || !have_id) {
    err = "no name or ID";
    return std::nullopt;
  }
  return fmt;
}

std::vector<std::map<int64_t, std::string>> print_symbolic_tables(std::string_view fmt) {
  std::vector<std::map<int64_t, std::string>> tables;
  const std::string_view key = "__print_symbolic(";
  size_t at = 0;
  while ((at = fmt.find(key, at)) != std::string_view::npos) {
    at += key.size();
    // The table ends at the parenthesis that closes __print_symbolic( (quotes respected).
    int depth = 1;
    size_t end = at;
    bool quoted = false;
    for (; end < fmt.size() && depth > 0; ++end) {
      char c = fmt[end];
      if (c == '"') quoted = !quoted;
      if (quoted) continue;
      if (c == '(') ++depth;
      if (c == ')') --depth;
    }
    std::string_view body = fmt.substr(at, end - at);
    std::map<int64_t, std::string> table;
    size_t p = 0;
    while ((p = body.find('{', p)) != std::string_view::npos) {
      size_t close = body.find('}', p);
      if (close == std::string_view::npos) break;
      std::string_view entry = body.substr(p + 1, close - p - 1);
      p = close + 1;
      size_t comma = entry.find(',');
      size_t q1 = entry.find('"'), q2 = entry.rfind('"');
      if (comma == std::string_view::npos || q1 == std::string_view::npos || q2 <= q1) continue;
      bool ok = false;
      int64_t v = parse_int_expr(entry.substr(0, comma), ok);
      if (ok) table[v] = std::string(entry.substr(q1 + 1, q2 - q1 - 1));
    }
    tables.push_back(std::move(table));
    at = end;
  }
  return tables;
}

bool Tracefs::open(std::string& err) {
  for (const char* dir : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"})
    if (is_dir(std::string(dir) + "/events")) {
      root_ = dir;
      return true;
    }
  std::ifstream mounts("/proc/mounts");
  std::string dev, dir, type;
  std::string rest;
  while (mounts >> dev >> dir >> type && std::getline(mounts, rest))
    if (type == "tracefs" && is_dir(dir + "/events")) {
      root_ = dir;
      return true;
    }
  if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, nullptr) == 0 &&
      is_dir("/sys/kernel/tracing/events")) {
    root_ = "/sys/kernel/tracing";
    return true;
  }
  int e = errno;
  err = std::string("tracefs is not mounted and mounting it failed (") + std::strerror(e) +
        "): run vtrace as root, or mount it with `mount -t tracefs nodev /sys/kernel/tracing`";
  return false;
}

const std::vector<std::pair<std::string, std::string>>& Tracefs::events() {
  if (listed_) return events_;
  listed_ = true;
  auto list_dir = [](const std::string& path) {
    std::vector<std::string> names;
    if (DIR* d = opendir(path.c_str())) {
      while (dirent* e = readdir(d))
        if (e->d_name[0] != '.' && e->d_type == DT_DIR) names.emplace_back(e->d_name);
      closedir(d);
    }
    std::sort(names.begin(), names.end());
    return names;
  };
  const std::string base = root_ + "/events";
  for (const auto& sys : list_dir(base))
    for (const auto& ev : list_dir(base + "/" + sys)) events_.emplace_back(sys, ev);
  return events_;
}

bool Tracefs::exists(const std::string& system, const std::string& event) const {
  if (system.find('/') != std::string::npos || event.find('/') != std::string::npos ||
      system == ".." || event == "..")
    return false;
  return access((root_ + "/events/" + system + "/" + event + "/format").c_str(), R_OK) == 0;
}

const EventFormat* Tracefs::format(const std::string& system, const std::string& event,
                                   std::string& err) {
  const std::string key = system + "/" + event;
  auto it = formats_.find(key);
  if (it != formats_.end()) return &it->second;
  if (!exists(system, event)) {
    err = "no tracepoint " + system + ":" + event + " in " + root_ + "/events";
    return nullptr;
  }
  std::string text;
  if (!read_text(root_ + "/events/" + key + "/format", text)) {
    err = "cannot read " + root_ + "/events/" + key + "/format: " + std::strerror(errno);
    return nullptr;
  }
  auto fmt = parse_format(text, err);
  if (!fmt) {
    err = root_ + "/events/" + key + "/format: " + err;
    return nullptr;
  }
  fmt->system = system;
  return &formats_.emplace(key, std::move(*fmt)).first->second;
}

std::string append_line(const std::string& path, const std::string& line) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return path + ": " + std::strerror(errno);
  const ssize_t n = write(fd, line.data(), line.size());
  const int err = errno;
  close(fd);
  if (n != static_cast<ssize_t>(line.size()))
    return "'" + line + "' into " + path + ": " + std::strerror(err);
  return "";
}

}  // namespace vtrace::sys
