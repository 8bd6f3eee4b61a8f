// Aggregation output: dtrace's default layout (dt_print_aggs / dt_print_datum), the ASCII
// distributions of the quantize family (dt_print_quantize & co.) and printa() with a format.
#include <cmath>

#include "engine/aggregation.h"
#include "engine/aggregation_table.h"
#include "engine/printf_format_detail.h"
#include "bytecode/tuple.h"

namespace vtrace::engine {

namespace {

using detail::appendf;

constexpr const char* kAts = "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@";
constexpr const char* kSpaces = "                                        ";

// One bar of a distribution (dt_print_quantline): 40 columns, or two half bars around a centre
// line when the distribution has both positive and negative counts.
void quantline(std::string& out, int64_t val, int64_t normal, long double total, bool positives,
               bool negatives) {
  unsigned len = 40;
  auto depth_of = [&](unsigned l) -> unsigned {
    if (total == 0) return 0;
    const long double f = (std::fabs(static_cast<long double>(val)) * l) / total;
    unsigned d = static_cast<unsigned>(f + 0.5L);
    return d > l ? l : d;
  };
  const long long shown = static_cast<long long>(val / normal);
  if (!negatives) {
    const unsigned depth = positives ? depth_of(len) : 0;
    appendf(out, "|%s%s %-9lld\n", kAts + len - depth, kSpaces + depth, shown);
    return;
  }
  if (!positives) {
    const unsigned depth = depth_of(len);
    appendf(out, "%s%s| %-9lld\n", kSpaces + depth, kAts + len - depth, shown);
    return;
  }
  len /= 2;
  const char* ats = kAts + len;
  const char* spaces = kSpaces + len;
  const unsigned depth = depth_of(len);
  if (val <= 0)
    appendf(out, "%s%s|%*s %-9lld\n", spaces + depth, ats + len - depth, static_cast<int>(len), "",
            shown);
  else
    appendf(out, "%20s|%s%s %-9lld\n", "", ats + len - depth, spaces + depth, shown);
}

void dist_header(std::string& out) {
  appendf(out, "\n%16s %41s %-9s\n", "value", "------------- Distribution -------------", "count");
}

// The shown range: one zero row either side of the non-zero buckets (dtrace's first_bin/last_bin
// logic, including its treatment of an all-zero distribution).
struct Range {
  int first, last;
  long double total = 0;
  bool positives = false, negatives = false;
};

Range shown_range(const int64_t* d, int n, int empty_first, int empty_last, bool scan_last) {
  Range r{0, n - 1};
  const int stop = scan_last ? n : n - 1;  // quantize never inspects its last bucket here
  while (r.first < stop && d[r.first] == 0) r.first++;
  if (r.first == stop) {
    r.first = empty_first;
    r.last = empty_last;
  } else {
    if (r.first > 0) r.first--;
    while (r.last > 0 && d[r.last] == 0) r.last--;
    if (r.last < n - 1) r.last++;
  }
  for (int i = r.first; i <= r.last; i++) {
    r.positives |= d[i] > 0;
    r.negatives |= d[i] < 0;
    r.total += std::fabs(static_cast<long double>(d[i]));
  }
  return r;
}

void print_quantize(std::string& out, const int64_t* d, int64_t normal) {
  const Range r = shown_range(d, kQuantizeBuckets, kQuantizeZero - 1, kQuantizeZero + 1, false);
  dist_header(out);
  for (int i = r.first; i <= r.last; i++) {
    appendf(out, "%16lld ", static_cast<long long>(quantize_bucket_value(i)));
    quantline(out, d[i], normal, r.total, r.positives, r.negatives);
  }
}

void print_lquantize(std::string& out, const AggState& im, const int64_t* d) {
  const int64_t levels = im.levels;
  const int n = static_cast<int>(levels + 2);
  const Range r = shown_range(d, n, 0, 2, true);
  dist_header(out);
  for (int i = r.first; i <= r.last; i++) {
    char c[48];
    if (i == 0) {
      std::snprintf(c, sizeof c, "< %lld", static_cast<long long>(im.def.base));
      appendf(out, "%16s ", c);
    } else if (i == n - 1) {
      std::snprintf(c, sizeof c, ">= %lld",
                    static_cast<long long>(im.def.base + levels * im.def.step));
      appendf(out, "%16s ", c);
    } else {
      appendf(out, "%16lld ", static_cast<long long>(im.def.base + (i - 1) * im.def.step));
    }
    quantline(out, d[i], im.normal, r.total, r.positives, r.negatives);
  }
}

void print_llquantize(std::string& out, const AggState& im, const int64_t* d) {
  const AggDef& def = im.def;
  const int n = static_cast<int>(im.nbins);
  const Range r = shown_range(d, n, 0, 1, true);
  dist_header(out);
  int64_t value = 1;
  for (int64_t o = 0; o < def.low; o++) value *= def.factor;
  int64_t next = value * def.factor;
  int64_t step = next > def.nsteps ? next / def.nsteps : 1;
  char c[48];
  if (r.first == 0) {
    std::snprintf(c, sizeof c, "< %lld", static_cast<long long>(value));
    appendf(out, "%16s ", c);
    quantline(out, d[0], im.normal, r.total, r.positives, r.negatives);
  }
  int bin = 1;
  for (int64_t order = def.low; order <= def.high;) {
    if (bin >= r.first && bin <= r.last) {
      appendf(out, "%16lld ", static_cast<long long>(value));
      quantline(out, d[bin], im.normal, r.total, r.positives, r.negatives);
    }
    bin++;
    if ((value += step) < next) continue;
    value = next;  // a step that does not divide the decade must still end it
    if (__builtin_mul_overflow(value, def.factor, &next)) next = INT64_MAX;
    step = next > def.nsteps ? next / def.nsteps : 1;
    order++;
  }
  if (r.last < bin) return;
  std::snprintf(c, sizeof c, ">= %lld", static_cast<long long>(value));
  appendf(out, "%16s ", c);
  quantline(out, d[bin], im.normal, r.total, r.positives, r.negatives);
}

bool is_quantize(AggFunc f) {
  return f == AggFunc::Quantize || f == AggFunc::Lquantize || f == AggFunc::Llquantize;
}

void print_distribution(std::string& out, const AggState& im, const int64_t* d) {
  switch (im.def.func) {
    case AggFunc::Quantize:
      print_quantize(out, d, im.normal);
      break;
    case AggFunc::Lquantize:
      print_lquantize(out, im, d);
      break;
    default:
      print_llquantize(out, im, d);
      break;
  }
}

// The scalar an aggregation shows, normalized (avg: sum / normal / count; stddev as dt_stddev).
int64_t scalar_value(const AggState& im, const int64_t* d) {
  switch (im.def.func) {
    case AggFunc::Avg:
      return d[0] > 0 ? d[1] / im.normal / d[0] : 0;
    case AggFunc::Stddev:
      return static_cast<int64_t>(agg_stddev(d, im.normal));
    default:
      return d[0] / im.normal;
  }
}

// dt_print_datum() for one key element: integers right-aligned in a width per size (1- and 2-byte
// values as their unsigned bits), strings left-aligned in 50 columns.
void print_key_elem(std::string& out, const bytecode::TupleElem& e, const StackTable* stacks) {
  if (e.type.is_stack() && stacks != nullptr) {
    // dt_print_stack(): the frames on lines of their own; the value follows on the next line.
    out += stacks->format(e.i);
    return;
  }
  if (e.type.is_string()) {
    out += "  ";
    out.append(e.s);
    if (e.s.size() < 50) out.append(50 - e.s.size(), ' ');
    return;
  }
  switch (e.type.size) {
    case 1:
      appendf(out, " %3d", static_cast<int>(static_cast<uint8_t>(e.i)));
      break;
    case 2:
      appendf(out, " %5d", static_cast<int>(static_cast<uint16_t>(e.i)));
      break;
    case 4:
      appendf(out, " %8d", static_cast<int32_t>(e.i));
      break;
    default:
      appendf(out, " %16lld", static_cast<long long>(e.i));
      break;
  }
}

}  // namespace

void Aggregation::print_default(std::string& out, const AggSortOptions& sort) const {
  if (impl_->table.size() == 0) return;
  out.push_back('\n');
  print_rows(out, sort);
}

void Aggregation::print_rows(std::string& out, const AggSortOptions& sort) const {
  const Impl& im = *impl_;
  std::vector<bytecode::TupleElem> elems;
  for (uint32_t i : im.sorted(sort)) {
    if (bytecode::tuple_decode(im.table.key(i), im.def.key_types, elems))
      for (const auto& e : elems) print_key_elem(out, e, stacks_);
    const int64_t* d = im.table.values(i);
    if (is_quantize(im.def.func))
      print_distribution(out, im, d);
    else if (im.def.func == AggFunc::Stddev)
      appendf(out, " %16llu", static_cast<unsigned long long>(scalar_value(im, d)));
    else
      appendf(out, " %16lld", static_cast<long long>(scalar_value(im, d)));
    out.push_back('\n');
  }
}

void Aggregation::printa(std::string& out, const PrintfFormat& fmt,
                         const AggSortOptions& sort) const {
  const Impl& im = *impl_;
  const bool unsigned_value = im.def.func == AggFunc::Count || im.def.func == AggFunc::Stddev;
  std::vector<bytecode::TupleElem> elems;
  for (uint32_t i : im.sorted(sort)) {
    if (!bytecode::tuple_decode(im.table.key(i), im.def.key_types, elems)) elems.clear();
    const int64_t* d = im.table.values(i);
    size_t k = 0;  // next key a conversion consumes
    auto dyn = [&](int spec) -> int {
      if (spec != -2) return spec < 0 ? 0 : spec;
      return k < elems.size() ? detail::star_value(elems[k++].i) : 0;
    };
    for (const auto& c : fmt.convs()) {
      out += c.literal;
      if (c.conv == 0) continue;
      if (c.conv == '%') {
        out.push_back('%');
        continue;
      }
      const int width = dyn(c.width);
      const int prec = dyn(c.precision);
      if (c.agg) {
        if (is_quantize(im.def.func)) {
          print_distribution(out, im, d);
          continue;
        }
        FormatArg a;
        a.type = unsigned_value ? lang::Type::u64() : lang::Type::i64();
        a.i = scalar_value(im, d);
        detail::format_conv(out, c, a, width, prec);
        continue;
      }
      if (k >= elems.size()) break;  // more key conversions than keys: checked at compile time
      const bytecode::TupleElem& e = elems[k++];
      FormatArg a;
      a.type = e.type;
      a.i = e.i;
      a.s = e.s;
      if (e.type.is_stack()) a.stacks = stacks_;  // %k: the conversion lays out the frames
      detail::format_conv(out, c, a, width, prec);
    }
  }
}

}  // namespace vtrace::engine
