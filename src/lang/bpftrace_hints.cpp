#include "lang/bpftrace_hints.h"

#include <unordered_map>

namespace vtrace::lang {

std::string bpftrace_hint(const std::string& name) {
  static const std::unordered_map<std::string, std::string> d_names = {
      // built-in variables
      {"comm", "execname"},
      {"nsecs", "timestamp"},
      {"elapsed", "timestamp"},
      {"retval", "arg1 (a pid or fbt return probe) or arg0 (a syscall return)"},
      {"kstack", "stack()"},
      {"cpid", "$target"},
      {"probe", "probeprov, probemod, probefunc and probename"},
      {"func", "probefunc"},
      {"username", "uid"},
      {"numaid", "cpu"},
      // functions
      {"hist", "quantize"},
      {"lhist", "lquantize"},
      {"stats", "avg, stddev"},
      {"str", "copyinstr"},
      {"print", "printa (an aggregation) or trace"},
      {"ksym", "sym"},
      {"kaddr", "a kernel symbol (not readable from D in vtrace)"},
      {"ntop", "inet_ntop"},
      {"buf", "tracemem"},
      {"time", "printf(\"%Y\", walltimestamp)"},
      {"strftime", "printf(\"%Y\", walltimestamp)"},
      {"delete", "an assignment of 0 (a[k] = 0)"},
      {"zero", "clear"},
      {"cat", "system(\"cat ...\") with -w"},
      {"signal", "raise (not supported by vtrace)"},
  };
  auto it = d_names.find(name);
  if (it == d_names.end()) return "";
  return "; did you mean " + it->second + "? (bpftrace's " + name + ")";
}

}  // namespace vtrace::lang
