#include "bytecode/subr.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>

namespace vtrace::bytecode {

namespace {

inline const char* as_str(int64_t v) {
  return reinterpret_cast<const char*>(v);
}
inline int64_t from_str(const char* s) {
  return reinterpret_cast<int64_t>(s);
}

std::string_view str_arg(const int64_t* args, int i, const ExecContext& ctx) {
  const char* s = as_str(args[i]);
  return std::string_view(s, strnlen(s, ctx.strsize - 1));
}

// Puts a result string in scratch space.
Fault put(std::string_view s, int64_t& result, ExecContext& ctx) {
  const char* p = ctx.scratch->copy(s, ctx.strsize - 1);
  if (p == nullptr) return Fault::OutOfScratch;
  result = from_str(p);
  return Fault::None;
}

// DTrace's substr(): a negative index counts from the end (a window that starts before the
// string keeps what of it overlaps the string), a negative length leaves that many characters
// off the end; what lies outside the string is empty, never an error.
Fault substr(std::string_view s, int64_t index, bool has_len, int64_t len, int64_t& result,
             ExecContext& ctx) {
  const int64_t size = static_cast<int64_t>(ctx.strsize);
  const int64_t slen = static_cast<int64_t>(s.size());
  int64_t remaining = has_len ? len : size;
  if (index < 0) {
    index = index < -slen - size ? -size : index + slen;  // (no overflow from INT64_MIN)
    if (index < 0 && remaining > -index) {
      remaining += index;
      index = 0;
    }
  }
  if (index >= slen || index < 0)
    remaining = 0;
  else if (remaining < 0)
    remaining = std::max<int64_t>(0, remaining + slen - index);
  remaining = std::min(remaining, slen - index);
  return put(remaining > 0 ? s.substr(index, remaining) : std::string_view(""), result, ctx);
}

int64_t index_of(std::string_view s, std::string_view sub, int64_t start) {
  if (start < 0) start = 0;
  if (start > static_cast<int64_t>(s.size())) return -1;
  size_t pos = s.find(sub, start);
  return pos == std::string_view::npos ? -1 : static_cast<int64_t>(pos);
}

int64_t rindex_of(std::string_view s, std::string_view sub, int64_t start) {
  if (start < 0) return -1;
  size_t pos = s.rfind(sub, static_cast<size_t>(start));
  return pos == std::string_view::npos ? -1 : static_cast<int64_t>(pos);
}

Fault lltostr(int64_t v, int64_t base, int64_t& result, ExecContext& ctx) {
  if (base < 2 || base > 36) return Fault::BadArgument;
  if (base == 10) return put(std::to_string(v), result, ctx);
  // Other bases print the 64-bit pattern, with C's prefixes for hex and octal, as DTrace does.
  uint64_t u = static_cast<uint64_t>(v);
  std::string digits;
  do {
    digits.insert(digits.begin(), "0123456789abcdefghijklmnopqrstuvwxyz"[u % base]);
    u /= base;
  } while (u != 0);
  if (base == 16) digits = "0x" + digits;
  if (base == 8 && digits != "0") digits = "0" + digits;
  return put(digits, result, ctx);
}

// basename/dirname as in DTrace (and POSIX): trailing slashes do not count.
std::string_view path_base(std::string_view p) {
  if (p.empty()) return ".";
  size_t end = p.find_last_not_of('/');
  if (end == std::string_view::npos) return "/";
  size_t start = p.find_last_of('/', end);
  return p.substr(start == std::string_view::npos ? 0 : start + 1,
                  end - (start == std::string_view::npos ? 0 : start + 1) + 1);
}

std::string_view path_dir(std::string_view p) {
  if (p.empty()) return ".";
  size_t end = p.find_last_not_of('/');
  if (end == std::string_view::npos) return "/";
  size_t slash = p.find_last_of('/', end);
  if (slash == std::string_view::npos) return ".";
  size_t dir_end = p.find_last_not_of('/', slash);
  if (dir_end == std::string_view::npos) return "/";
  return p.substr(0, dir_end + 1);
}

Fault map_case(std::string_view s, bool upper, int64_t& result, ExecContext& ctx) {
  std::string out(s);
  for (auto& ch : out) {
    if (upper && ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
    if (!upper && ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  }
  return put(out, result, ctx);
}

// alloca(), bcopy(), copyin(), copyinto(), stringof(pointer), (char *)string: the subroutines
// that hand out or move scratch memory. Every address is checked against what was handed out.
Fault memory_subr(Subr s, const int64_t* a, int64_t& result, ExecContext& ctx) {
  if (ctx.memory == nullptr) return Fault::OutOfScratch;
  DataMemory& mem = *ctx.memory;
  auto alloc = [&](int64_t n, uint64_t& addr) {
    return n >= 0 && mem.alloc(static_cast<uint64_t>(n), addr);
  };
  const uint64_t u0 = static_cast<uint64_t>(a[0]), u1 = static_cast<uint64_t>(a[1]);
  result = 0;
  switch (s) {
    case Subr::Alloca: {
      uint64_t addr = 0;
      if (!alloc(a[0], addr)) return Fault::OutOfScratch;
      result = static_cast<int64_t>(addr);
      return Fault::None;
    }
    case Subr::Bcopy: {
      if (a[2] < 0) return Fault::BadArgument;
      const uint8_t* src = mem.at(u0, static_cast<uint64_t>(a[2]));
      uint8_t* dst = mem.at(u1, static_cast<uint64_t>(a[2]));
      if (src == nullptr || dst == nullptr) return Fault::BadAddress;
      std::memmove(dst, src, static_cast<size_t>(a[2]));
      return Fault::None;
    }
    case Subr::BcopyStr: {
      if (a[2] < 0) return Fault::BadArgument;
      uint8_t* dst = mem.at(u1, static_cast<uint64_t>(a[2]));
      if (dst == nullptr) return Fault::BadAddress;
      std::string_view str = str_arg(a, 0, ctx);
      const size_t n = static_cast<size_t>(a[2]);
      std::memset(dst, 0, n);
      std::memcpy(dst, str.data(), std::min(n, str.size()));
      return Fault::None;
    }
    case Subr::Copyin: {
      uint64_t addr = 0;
      if (!alloc(a[1], addr)) return Fault::OutOfScratch;
      Fault f = ctx.host->copyin(u0, static_cast<size_t>(a[1]), mem.at(addr, u1));
      if (f != Fault::None) return f;
      result = static_cast<int64_t>(addr);
      return Fault::None;
    }
    case Subr::Copyinto: {
      if (a[1] < 0) return Fault::BadArgument;
      uint8_t* dst = mem.at(static_cast<uint64_t>(a[2]), u1);
      if (dst == nullptr) return Fault::BadAddress;
      return ctx.host->copyin(u0, static_cast<size_t>(a[1]), dst);
    }
    case Subr::Memstr: {
      const uint64_t avail = mem.span(u0);
      if (avail == 0) return Fault::BadAddress;
      uint64_t max = std::min<uint64_t>(avail, ctx.strsize - 1);
      if (a[1] >= 0) max = std::min(max, u1);
      const char* p = reinterpret_cast<const char*>(mem.at(u0, 1));
      return put(std::string_view(p, strnlen(p, static_cast<size_t>(max))), result, ctx);
    }
    case Subr::InetNtoa:
    case Subr::InetNtoa6:
    case Subr::InetNtop: {
      // An address in D memory (alloca'd, copied in); AF_INET (2) or AF_INET6 (10).
      const int af = s == Subr::InetNtoa    ? AF_INET
                     : s == Subr::InetNtoa6 ? AF_INET6
                                            : static_cast<int>(a[0]);
      if (af != AF_INET && af != AF_INET6) return Fault::BadArgument;
      const uint64_t at = s == Subr::InetNtop ? u1 : u0;
      const uint8_t* p = mem.at(at, af == AF_INET ? 4 : 16);
      if (p == nullptr) return Fault::BadAddress;
      char text[INET6_ADDRSTRLEN];
      if (s == Subr::InetNtoa6) {
        // As dtrace's inet_ntoa6: an IPv4-mapped or -compatible address (not :: or ::1) prints
        // as the IPv4 address it carries.
        static const uint8_t zeros[12] = {};
        const bool mapped = std::memcmp(p, zeros, 10) == 0 && p[10] == 0xff && p[11] == 0xff;
        const bool compat =
            std::memcmp(p, zeros, 12) == 0 && (p[12] != 0 || p[13] != 0 || p[14] != 0 || p[15] > 1);
        if (mapped || compat) {
          inet_ntop(AF_INET, p + 12, text, sizeof text);
          return put(text, result, ctx);
        }
      }
      if (inet_ntop(af, p, text, sizeof text) == nullptr) return Fault::BadArgument;
      return put(text, result, ctx);
    }
    case Subr::StrBytes: {
      std::string_view str = str_arg(a, 0, ctx);
      uint64_t addr = 0;
      if (!alloc(static_cast<int64_t>(str.size() + 1), addr)) return Fault::OutOfScratch;
      std::memcpy(mem.at(addr, str.size() + 1), str.data(), str.size());
      result = static_cast<int64_t>(addr);
      return Fault::None;
    }
    default:
      return Fault::IllegalOp;
  }
}

// strtok(): skips delimiters, returns the token up to the next one, keeps what follows it.
Fault strtok_next(std::string_view delims, int64_t& result, ExecContext& ctx) {
  std::string& rest = ctx.strtok_rest;
  const std::string d(delims);
  const size_t start = rest.find_first_not_of(d);
  if (start == std::string::npos) {
    rest.clear();
    return put("", result, ctx);
  }
  const size_t end = rest.find_first_of(d, start);
  std::string token =
      rest.substr(start, end == std::string::npos ? std::string::npos : end - start);
  rest.erase(0, end == std::string::npos ? rest.size() : end + 1);
  return put(token, result, ctx);
}

int64_t to_ll(std::string_view s) {
  std::string tmp(s);
  return static_cast<int64_t>(strtoll(tmp.c_str(), nullptr, 0));
}

}  // namespace

Fault call_subr(Subr s, const int64_t* a, int64_t& result, ExecContext& ctx) {
  switch (s) {
    case Subr::Strlen:
      result = static_cast<int64_t>(str_arg(a, 0, ctx).size());
      return Fault::None;
    case Subr::Strjoin: {
      std::string joined(str_arg(a, 0, ctx));
      joined += str_arg(a, 1, ctx);
      return put(joined, result, ctx);
    }
    case Subr::Substr2:
      return substr(str_arg(a, 0, ctx), a[1], false, 0, result, ctx);
    case Subr::Substr3:
      return substr(str_arg(a, 0, ctx), a[1], true, a[2], result, ctx);
    case Subr::Index2:
      result = index_of(str_arg(a, 0, ctx), str_arg(a, 1, ctx), 0);
      break;
    case Subr::Index3:
      result = index_of(str_arg(a, 0, ctx), str_arg(a, 1, ctx), a[2]);
      break;
    case Subr::Rindex2:
      result = rindex_of(str_arg(a, 0, ctx), str_arg(a, 1, ctx), INT64_MAX);
      break;
    case Subr::Rindex3:
      result = rindex_of(str_arg(a, 0, ctx), str_arg(a, 1, ctx), a[2]);
      break;
    case Subr::Strchr:
    case Subr::Strrchr: {
      // As strstr(): the remainder points into the argument; "" when the character is absent.
      std::string_view str = str_arg(a, 0, ctx);
      const char c = static_cast<char>(a[1]);
      size_t pos = s == Subr::Strchr ? str.find(c) : str.rfind(c);
      result = from_str(pos == std::string_view::npos ? "" : as_str(a[0]) + pos);
      break;
    }
    case Subr::Strstr: {
      std::string_view hay = str_arg(a, 0, ctx);
      size_t pos = hay.find(str_arg(a, 1, ctx));
      // The remainder is itself a NUL-terminated string: point into the argument.
      result = from_str(pos == std::string_view::npos ? "" : as_str(a[0]) + pos);
      break;
    }
    case Subr::Lltostr1:
      return lltostr(a[0], 10, result, ctx);
    case Subr::Lltostr2:
      return lltostr(a[0], a[1], result, ctx);
    case Subr::Basename:
      return put(path_base(str_arg(a, 0, ctx)), result, ctx);
    case Subr::Dirname:
      return put(path_dir(str_arg(a, 0, ctx)), result, ctx);
    case Subr::Speculation:
      result = ctx.host->speculation();
      break;
    case Subr::Rand: {
      static thread_local std::mt19937_64 rng{std::random_device{}()};
      result = static_cast<int64_t>(rng() >> 33);
      break;
    }
    case Subr::Toupper:
      return map_case(str_arg(a, 0, ctx), true, result, ctx);
    case Subr::Tolower:
      return map_case(str_arg(a, 0, ctx), false, result, ctx);
    case Subr::Strtoll:
      result = to_ll(str_arg(a, 0, ctx));
      break;
    case Subr::Copyinstr1:
    case Subr::Copyinstr2: {
      size_t max = ctx.strsize - 1;
      if (s == Subr::Copyinstr2) {
        if (a[1] < 0) return Fault::BadArgument;
        if (static_cast<uint64_t>(a[1]) < max) max = static_cast<size_t>(a[1]);
      }
      std::string str;
      Fault f = ctx.host->copyinstr(static_cast<uint64_t>(a[0]), max, str);
      if (f != Fault::None) return f;
      return put(str, result, ctx);
    }
    case Subr::Stack0:
    case Subr::Ustack0:
      return ctx.host->stack(s == Subr::Ustack0, 0, result);
    case Subr::Stack1:
    case Subr::Ustack1:
      if (a[0] <= 0 || a[0] > 1024) return Fault::BadArgument;
      return ctx.host->stack(s == Subr::Ustack1, static_cast<uint32_t>(a[0]), result);
    case Subr::Func:
    case Subr::Sym:
    case Subr::Mod:
    case Subr::Ufunc:
    case Subr::Usym:
    case Subr::Umod:
    case Subr::Uaddr: {
      std::string str;
      Fault f = ctx.host->symbol(s, static_cast<uint64_t>(a[0]), str);
      if (f != Fault::None) return f;
      return put(str, result, ctx);
    }
    case Subr::Alloca:
    case Subr::Bcopy:
    case Subr::BcopyStr:
    case Subr::Copyin:
    case Subr::Copyinto:
    case Subr::Memstr:
    case Subr::StrBytes:
    case Subr::InetNtoa:
    case Subr::InetNtoa6:
    case Subr::InetNtop:
      return memory_subr(s, a, result, ctx);
    case Subr::Strtok2:
      ctx.strtok_rest.assign(str_arg(a, 0, ctx));
      return strtok_next(str_arg(a, 1, ctx), result, ctx);
    case Subr::Strtok1:
      return strtok_next(str_arg(a, 0, ctx), result, ctx);
    case Subr::Htons:
      result = __builtin_bswap16(static_cast<uint16_t>(a[0]));
      break;
    case Subr::Htonl:
      result = __builtin_bswap32(static_cast<uint32_t>(a[0]));
      break;
    case Subr::Htonll:
      result = static_cast<int64_t>(__builtin_bswap64(static_cast<uint64_t>(a[0])));
      break;
    case Subr::StrChar: {
      if (a[1] < 0 || a[1] >= static_cast<int64_t>(ctx.strsize)) return Fault::BadAddress;
      std::string_view str = str_arg(a, 0, ctx);
      const size_t i = static_cast<size_t>(a[1]);
      result = i < str.size() ? static_cast<signed char>(str[i]) : 0;
      break;
    }
    case Subr::Count_:
      return Fault::IllegalOp;
  }
  return Fault::None;
}

}  // namespace vtrace::bytecode
