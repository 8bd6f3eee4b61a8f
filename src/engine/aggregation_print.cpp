// Aggregation output, from a snapshot (agg_snapshot.h): dtrace's default layout (dt_print_aggs /
// dt_print_datum), the ASCII distributions of the quantize family (dt_print_quantize & co.) and
// printa() with a format.
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "bytecode/tuple.h"
#include "engine/agg_snapshot.h"
#include "engine/aggregation.h"
#include "engine/aggregation_table.h"
#include "engine/printf_format_detail.h"

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
};

Range shown_range(const int64_t* d, int n, int empty_first, int empty_last) {
  Range r{0, n - 1};
  while (r.first < n && d[r.first] == 0) r.first++;
  if (r.first == n) {
    r.first = empty_first;
    r.last = empty_last;
  } else {
    if (r.first > 0) r.first--;
    while (r.last > 0 && d[r.last] == 0) r.last--;
    if (r.last < n - 1) r.last++;
  }
  return r;
}

// A shown bucket with its raw count (the bars are drawn from raw counts, the numbers normalized).
struct Shown {
  AggSnapshot::Bucket b;
  int64_t raw;
};

void add_shown(std::vector<Shown>& out, const int64_t* d, int i, int64_t bound, int64_t normal,
               bool below = false, bool above = false) {
  out.push_back({{bound, d[i] / normal, below, above}, d[i]});
}

std::vector<Shown> quantize_buckets(const int64_t* d, int64_t normal) {
  // Every bucket counts, the last (2^62 and up) too: illumos' scan stopped before it and showed
  // such values as an empty distribution.
  const Range r = shown_range(d, kQuantizeBuckets, kQuantizeZero - 1, kQuantizeZero + 1);
  std::vector<Shown> out;
  for (int i = r.first; i <= r.last; i++) add_shown(out, d, i, quantize_bucket_value(i), normal);
  return out;
}

std::vector<Shown> lquantize_buckets(const AggState& im, const int64_t* d) {
  const int n = static_cast<int>(im.levels + 2);
  const Range r = shown_range(d, n, 0, 2);
  std::vector<Shown> out;
  for (int i = r.first; i <= r.last; i++) {
    if (i == 0)
      add_shown(out, d, i, im.def.base, im.normal, true);
    else if (i == n - 1)
      add_shown(out, d, i, im.def.base + im.levels * im.def.step, im.normal, false, true);
    else
      add_shown(out, d, i, im.def.base + (i - 1) * im.def.step, im.normal);
  }
  return out;
}

// dt_print_llquantize(): the bins from one before the first non-zero one to one after the last
// (bin0 + 1 alone when all are zero), those without a label left out but at either end, where the
// nearest label within the unlabelled run stands in (dtrace's "ghost bins").
std::vector<Shown> llquantize_buckets(const AggState& im, const int64_t* d) {
  using Label = bytecode::Llquantize::Label;
  const bytecode::Llquantize& q = *im.llq;
  const int n = static_cast<int>(q.nbins()), bin0 = static_cast<int>(q.bin0);
  int first = 0, last = n - 1;
  while (first <= last && d[first] == 0) first++;
  if (first > last) {
    first = last = bin0 + 1;
  } else {
    while (d[last] == 0) last--;
  }
  const bool below_only = first >= bin0;  // no negative value: bin0 reads "< first"
  if (first > 0) first--;
  if (last < n - 1) last++;
  const int pad = q.low == 0 && q.nsteps > q.factor ? static_cast<int>(q.nsteps / q.factor) : 0;
  auto label_of = [&](int bin, int step) {
    for (int i = 1; i < pad; i++) {
      const int at = bin + step * i;
      if (at >= 0 && at < n && q.labels[at].kind != Label::None) return q.labels[at];
    }
    return Label{};
  };
  std::vector<Shown> out;
  for (int bin = first; bin <= last; bin++) {
    Label l = q.labels[bin];
    if (l.kind == Label::None && bin == first) l = label_of(bin, -1);
    if (l.kind == Label::None && bin == last) l = label_of(bin, +1);
    AggSnapshot::Bucket b{l.bound, d[bin] / im.normal};
    switch (l.kind) {
      case Label::None:
        continue;
      case Label::Zero:
        if (q.first == 1) {
          b.bound = 0;
        } else {
          b.below = true;
          b.magnitude = !below_only;
        }
        break;
      case Label::AtMost:
        b.at_most = true;
        break;
      case Label::AtLeast:
        b.above = true;
        break;
      case Label::Value:
        break;
    }
    out.push_back({b, d[bin]});
  }
  return out;
}

std::vector<Shown> shown_buckets(const AggState& im, const int64_t* d) {
  switch (im.def.func) {
    case AggFunc::Quantize:
      return quantize_buckets(d, im.normal);
    case AggFunc::Lquantize:
      return lquantize_buckets(im, d);
    default:
      return llquantize_buckets(im, d);
  }
}

// dt_print_quantize & co.: the header, then one labelled bar per shown bucket.
void print_distribution(std::string& out, const AggState& im, const int64_t* d) {
  const std::vector<Shown> rows = shown_buckets(im, d);
  long double total = 0;
  bool positives = false, negatives = false;
  for (const Shown& s : rows) {
    positives |= s.raw > 0;
    negatives |= s.raw < 0;
    total += std::fabs(static_cast<long double>(s.raw));
  }
  dist_header(out);
  for (const Shown& s : rows) {
    appendf(out, "%16s ", s.b.label().c_str());
    quantline(out, s.raw, im.normal, total, positives, negatives);
  }
}

bool is_quantize(AggFunc f) {
  return f == AggFunc::Quantize || f == AggFunc::Lquantize || f == AggFunc::Llquantize;
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

AggSnapshot::AggSnapshot(uint32_t id, const AggState& state, const AggSortOptions& sort,
                         const StackTable* stacks)
    : id_(id),
      state_(std::make_unique<AggState>(
          AggState::Layout{state.def, state.nbins, state.levels, state.llq})),
      stacks_(stacks) {
  state_->normal = state.normal;
  const uint32_t nvals = state.table.nvals();
  for (uint32_t i : state.sorted(sort)) {
    int64_t* v = state_->table.find_or_insert(state.table.key(i));
    std::copy(state.table.values(i), state.table.values(i) + nvals, v);
  }
}

AggSnapshot::~AggSnapshot() = default;

const AggDef& AggSnapshot::def() const {
  return state_->def;
}

size_t AggSnapshot::rows() const {
  return state_->table.size();
}

void AggSnapshot::keys(size_t row, std::vector<bytecode::TupleElem>& out) const {
  if (!bytecode::tuple_decode(state_->table.key(row), state_->def.key_types, out)) out.clear();
}

int64_t AggSnapshot::value(size_t row) const {
  return scalar_value(*state_, state_->table.values(row));
}

bool AggSnapshot::is_distribution() const {
  return is_quantize(state_->def.func);
}

std::string AggSnapshot::Bucket::label() const {
  const std::string v = std::to_string(bound);
  if (below) return (magnitude ? "abs() < " : "< ") + v;
  if (above) return ">= " + v;
  if (at_most) return "<= " + v;
  return v;
}

std::vector<AggSnapshot::Bucket> AggSnapshot::buckets(size_t row) const {
  std::vector<Bucket> out;
  if (!is_distribution()) return out;
  for (const Shown& s : shown_buckets(*state_, state_->table.values(row))) out.push_back(s.b);
  return out;
}

void AggSnapshot::print_default(std::string& out) const {
  if (rows() == 0) return;
  out.push_back('\n');
  print_rows(out);
}

void AggSnapshot::print_rows(std::string& out) const {
  const AggState& im = *state_;
  std::vector<bytecode::TupleElem> elems;
  for (size_t i = 0; i < im.table.size(); i++) {
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

void AggSnapshot::printa(std::string& out, const PrintfFormat& fmt) const {
  // A snapshot owned elsewhere: an aliasing pointer that owns nothing.
  const std::shared_ptr<const AggSnapshot> self(std::shared_ptr<const AggSnapshot>(), this);
  printa(out, fmt, {&self, 1}, {});
}

void AggSnapshot::printa(std::string& out, const PrintfFormat& fmt,
                         std::span<const std::shared_ptr<const AggSnapshot>> aggs,
                         const AggSortOptions& sort) {
  if (aggs.empty()) return;
  // The rows of every aggregation joined by key (first seen first); a key an aggregation does
  // not have shows its zero value, as in dtrace.
  struct Row {
    std::string_view key;
    std::vector<const int64_t*> vals;
  };
  std::vector<Row> rows;
  std::unordered_map<std::string_view, size_t> at;
  std::vector<std::vector<int64_t>> zeros(aggs.size());
  for (size_t j = 0; j < aggs.size(); ++j) {
    const AggTable& t = aggs[j]->state_->table;
    zeros[j].assign(t.nvals(), 0);
    for (size_t r = 0; r < t.size(); ++r) {
      auto [it, fresh] = at.emplace(t.key(r), rows.size());
      if (fresh) rows.push_back({t.key(r), std::vector<const int64_t*>(aggs.size(), nullptr)});
      rows[it->second].vals[j] = t.values(r);
    }
  }
  auto vals = [&](const Row& row, size_t j) {
    return row.vals[j] != nullptr ? row.vals[j] : zeros[j].data();
  };
  const AggState& first = *aggs[0]->state_;
  // One aggregation's rows are in its output order already; joined ones sort as the first
  // aggregation's rows would.
  if (aggs.size() > 1)
    std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
      return first.compare(vals(a, 0), a.key, vals(b, 0), b.key, sort) < 0;
    });
  std::vector<bytecode::TupleElem> elems;
  for (const Row& row : rows) {
    if (!bytecode::tuple_decode(row.key, first.def.key_types, elems)) elems.clear();
    size_t k = 0;  // next key a conversion consumes
    size_t m = 0;  // next aggregation a %@ conversion shows (the last one again past the end)
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
        const size_t j = std::min(m++, aggs.size() - 1);
        const AggState& im = *aggs[j]->state_;
        const int64_t* d = vals(row, j);
        if (is_quantize(im.def.func)) {
          print_distribution(out, im, d);
          continue;
        }
        FormatArg a;
        const bool unsigned_value = im.def.func == AggFunc::Count || im.def.func == AggFunc::Stddev;
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
      if (e.type.is_stack()) a.stacks = aggs[0]->stacks_;  // %k: the conversion lays out frames
      detail::format_conv(out, c, a, width, prec);
    }
  }
}

std::shared_ptr<const AggSnapshot> Aggregation::snapshot(uint32_t id,
                                                         const AggSortOptions& sort) const {
  return std::make_shared<const AggSnapshot>(id, *impl_, sort, stacks_);
}

void Aggregation::print_default(std::string& out, const AggSortOptions& sort) const {
  snapshot(0, sort)->print_default(out);
}

void Aggregation::print_rows(std::string& out, const AggSortOptions& sort) const {
  snapshot(0, sort)->print_rows(out);
}

void Aggregation::printa(std::string& out, const PrintfFormat& fmt,
                         const AggSortOptions& sort) const {
  snapshot(0, sort)->printa(out, fmt);
}

}  // namespace vtrace::engine
