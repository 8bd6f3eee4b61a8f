#include "engine/options.h"

#include <cerrno>
#include <cstdlib>

namespace vtrace::engine {

bool parse_size(const std::string& text, uint64_t& out) {
  if (text.empty() || text[0] < '0' || text[0] > '9') return false;
  char* end = nullptr;
  errno = 0;
  unsigned long long v = strtoull(text.c_str(), &end, 10);
  if (errno == ERANGE) return false;  // strtoull clips to ULLONG_MAX
  uint64_t mult = 1;
  std::string suffix(end);
  if (suffix == "k" || suffix == "K")
    mult = 1ull << 10;
  else if (suffix == "m" || suffix == "M")
    mult = 1ull << 20;
  else if (suffix == "g" || suffix == "G")
    mult = 1ull << 30;
  else if (!suffix.empty())
    return false;
  if (v > UINT64_MAX / mult) return false;
  out = v * mult;
  return true;
}

std::string Options::set(const std::string& name, const std::string& value) {
  auto flag = [&](bool& b) -> std::string {
    if (value.empty() || value == "1" || value == "true")
      b = true;
    else if (value == "0" || value == "false")
      b = false;
    else
      return "option " + name + " does not take the value \"" + value + "\"";
    return "";
  };
  auto size = [&](uint64_t& s, uint64_t min, uint64_t max) -> std::string {
    uint64_t v = 0;
    if (value.empty()) return "option " + name + " requires a value";
    if (!parse_size(value, v)) return "invalid value for option " + name + ": \"" + value + "\"";
    if (v < min || v > max) return "value for option " + name + " is out of range: " + value;
    s = v;
    return "";
  };
  if (name == "quiet") return flag(quiet);
  if (name == "aggsortkey") return flag(aggsortkey);
  if (name == "aggsortrev") return flag(aggsortrev);
  if (name == "destructive") return flag(destructive);
  if (name == "defaultargs") return flag(defaultargs);
  if (name == "argref") return flag(argref);
  if (name == "pspec") return flag(pspec);
  if (name == "zdefs") return flag(zdefs);
  if (name == "empty") {  // the compiler reads it from the pragma: a program may have no clause
    bool ignored = false;
    return flag(ignored);
  }
  if (name == "strsize") {
    uint64_t v = strsize;
    std::string err = size(v, 2, 1 << 20);
    if (err.empty()) strsize = static_cast<uint32_t>(v);
    return err;
  }
  if (name == "aggsortkeypos") {
    uint64_t v = aggsortkeypos;
    std::string err = size(v, 0, 1024);
    if (err.empty()) aggsortkeypos = static_cast<uint32_t>(v);
    return err;
  }
  if (name == "nspec") {
    uint64_t v = nspec;
    std::string err = size(v, 1, 4096);
    if (err.empty()) nspec = static_cast<uint32_t>(v);
    return err;
  }
  if (name == "specsize") return size(specsize, 1, 1ull << 32);
  if (name == "dynvarsize") return size(dynvarsize, 1024, 1ull << 36);
  if (name == "aggsize") return size(aggsize, 1, 1ull << 36);
  if (name == "bufsize") return size(bufsize, 1, 1ull << 36);
  if (name == "scratchsize") return size(scratchsize, 8, 64 << 20);
  if (name == "oformat") {
    if (value != "text" && value != "json" && value != "perfetto" && value != "ctf" &&
        value != "folded")
      return "option oformat must be text, json, perfetto, ctf or folded";
    oformat = value;
    return "";
  }
  // The command line takes the valid values (the preprocessor's: cli/preprocess.h).
  if (name == "stdc") return "option stdc must be a, c, s or t";
  if (name == "mode") {
    if (value != "async" && value != "sync") return "option mode must be async or sync";
    mode = value;
    return "";
  }
  // Accepted for dtrace compatibility; vtrace's consumer has no rates to tune.
  if (name == "switchrate" || name == "aggrate" || name == "statusrate" || name == "cleanrate" ||
      name == "bufpolicy" || name == "bufresize")
    return "";
  return "unrecognized option \"" + name + "\"";
}

}  // namespace vtrace::engine
