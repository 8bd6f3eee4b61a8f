// Aggregation updates, clear/trunc/normalize and the output order, with the arithmetic of DTrace's
// kernel aggregating functions (dtrace.c) and libdtrace's sort (dt_aggregate.c).
#include "engine/aggregation.h"

#include <algorithm>
#include <limits>

#include "engine/aggregation_table.h"

namespace vtrace::engine {

namespace {

__extension__ using u128 = unsigned __int128;

// Wrapping add: D integer arithmetic wraps, and UBSan must not see signed overflow.
inline void add(int64_t& a, int64_t b) {
  a = static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

inline uint64_t abs_u(int64_t v) {
  return v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
}

// dtrace.c dtrace_aggregate_quantize(): negative values go to the bucket labelled with the
// largest power of two (negated) not above their magnitude.
inline int quantize_bucket(int64_t v) {
  if (v == 0) return kQuantizeZero;
  if (v > 0)
    return std::min(kQuantizeZero + 64 - __builtin_clzll(static_cast<uint64_t>(v)),
                    kQuantizeBuckets - 1);
  const int k = 63 - __builtin_clzll(abs_u(v));  // floor(log2(-v))
  return k >= 62 ? 0 : kQuantizeZero - 1 - k;
}

// Compares two encoded tuples as dt_aggregate_keycmp() does: integers as unsigned values of their
// size, strings byte-wise (a prefix sorts first).
// Where each element of an encoded key starts (strings end at their NUL, integers take 8 bytes).
void key_offsets(std::string_view k, const std::vector<lang::Type>& types,
                 std::vector<size_t>& out) {
  out.clear();
  size_t p = 0;
  for (const auto& t : types) {
    out.push_back(p);
    p = t.is_string() ? std::min(k.find('\0', p), k.size()) + 1 : p + 8;
  }
}

int elem_cmp(std::string_view a, size_t pa, std::string_view b, size_t pb, const lang::Type& t) {
  if (t.is_string()) {
    pa = std::min(pa, a.size());
    pb = std::min(pb, b.size());
    const size_t ea = std::min(a.find('\0', pa), a.size());
    const size_t eb = std::min(b.find('\0', pb), b.size());
    const int c = a.substr(pa, ea - pa).compare(b.substr(pb, eb - pb));
    return c == 0 ? 0 : c < 0 ? -1 : 1;
  }
  uint64_t x = 0, y = 0;
  if (pa + 8 <= a.size()) std::memcpy(&x, a.data() + pa, 8);
  if (pb + 8 <= b.size()) std::memcpy(&y, b.data() + pb, 8);
  if (t.size < 8) {
    const uint64_t m = (uint64_t{1} << (t.size * 8)) - 1;
    x &= m;
    y &= m;
  }
  return x == y ? 0 : x < y ? -1 : 1;
}

// Keys compare element by element from `keypos` on, wrapping around (dt_aggregate_keycmp with
// aggsortkeypos).
int key_cmp(std::string_view a, std::string_view b, const std::vector<lang::Type>& types,
            uint32_t keypos) {
  const size_t n = types.size();
  if (n == 0) return 0;
  thread_local std::vector<size_t> oa, ob;
  key_offsets(a, types, oa);
  key_offsets(b, types, ob);
  for (size_t j = 0; j < n; ++j) {
    const size_t i = (keypos + j) % n;
    if (int c = elem_cmp(a, oa[i], b, ob[i], types[i]); c != 0) return c;
  }
  return 0;
}

// The value a row sorts by (dt_aggregate_valcmp): a primary magnitude and, for the quantize
// family, the weight at zero as tie-breaker. long double holds every int64 exactly on x86-64.
struct SortVal {
  long double v = 0;
  int64_t zero = 0;
};

SortVal sort_value(const AggState& im, const int64_t* d) {
  const AggDef& def = im.def;
  SortVal s;
  switch (def.func) {
    case AggFunc::Count:
    case AggFunc::Sum:
    case AggFunc::Min:
    case AggFunc::Max:
      s.v = static_cast<long double>(d[0]);
      break;
    case AggFunc::Avg:
      s.v = d[0] == 0 || (d[0] == -1 && d[1] == std::numeric_limits<int64_t>::min())
                ? 0
                : static_cast<long double>(d[1] / d[0]);
      break;
    case AggFunc::Stddev:
      s.v = static_cast<long double>(agg_stddev(d, 1));
      break;
    case AggFunc::Quantize:
      for (int i = 0; i < kQuantizeBuckets; i++)
        s.v += static_cast<long double>(quantize_bucket_value(i)) * static_cast<long double>(d[i]);
      s.zero = d[kQuantizeZero];
      break;
    case AggFunc::Lquantize: {
      int64_t base = def.base;
      s.v = static_cast<long double>(d[0]) * static_cast<long double>(base - 1);
      if (base - 1 == 0) s.zero = d[0];
      for (int64_t i = 0; i < im.levels; base += def.step, i++) {
        s.v += static_cast<long double>(d[i + 1]) * static_cast<long double>(base);
        if (base == 0) s.zero = d[i + 1];
      }
      s.v += static_cast<long double>(d[im.levels + 1]) * static_cast<long double>(base + 1);
      if (base + 1 == 0 && def.base - 1 != 0) s.zero = d[im.levels + 1];
      break;
    }
    case AggFunc::Llquantize: {
      // Each bin weighs by its bound (bin0 by 0), as the sum of the values it holds would.
      using Label = bytecode::Llquantize::Label;
      const std::vector<Label>& labels = im.llq->labels;
      for (size_t bin = 0; bin < labels.size(); bin++)
        if (labels[bin].kind != Label::Zero)
          s.v += static_cast<long double>(d[bin]) * static_cast<long double>(labels[bin].bound);
      s.zero = d[im.llq->bin0];
      break;
    }
  }
  return s;
}

}  // namespace

const char* agg_func_name(AggFunc f) {
  switch (f) {
    case AggFunc::Count:
      return "count";
    case AggFunc::Sum:
      return "sum";
    case AggFunc::Avg:
      return "avg";
    case AggFunc::Min:
      return "min";
    case AggFunc::Max:
      return "max";
    case AggFunc::Stddev:
      return "stddev";
    case AggFunc::Quantize:
      return "quantize";
    case AggFunc::Lquantize:
      return "lquantize";
    case AggFunc::Llquantize:
      return "llquantize";
  }
  return "?";
}

int64_t quantize_bucket_value(int b) {
  if (b < kQuantizeZero) return -(int64_t{1} << (kQuantizeZero - 1 - b));
  if (b == kQuantizeZero) return 0;
  return int64_t{1} << (b - kQuantizeZero - 1);
}

uint64_t agg_stddev(const int64_t* d, uint64_t normal) {
  const uint64_t count = static_cast<uint64_t>(d[0]);
  if (count == 0 || normal == 0) return 0;
  const u128 sumsq =
      (static_cast<u128>(static_cast<uint64_t>(d[3])) << 64) | static_cast<uint64_t>(d[2]);
  const u128 avg_sq = sumsq / normal / normal / count;
  // normal is in [1, INT64_MAX] and count > 0, so the signed divisions cannot trap.
  const int64_t avg = d[0] > 0 ? d[1] / static_cast<int64_t>(normal) / d[0] : 0;
  const uint64_t a = abs_u(avg);
  u128 x = avg_sq - static_cast<u128>(a) * a;  // wraps as dt_subtract_128 does
  // Integer square root, bit by bit (floor).
  u128 res = 0, bit = static_cast<u128>(1) << 126;
  while (bit > x) bit >>= 2;
  while (bit != 0) {
    if (x >= res + bit) {
      x -= res + bit;
      res = (res >> 1) + bit;
    } else {
      res >>= 1;
    }
    bit >>= 2;
  }
  return static_cast<uint64_t>(res);
}

namespace {

uint32_t values_per_key(AggFunc f, uint32_t nbins) {
  switch (f) {
    case AggFunc::Avg:
      return 2;
    case AggFunc::Stddev:
      return 4;  // count, sum, 128-bit sum of squares
    case AggFunc::Quantize:
    case AggFunc::Lquantize:
    case AggFunc::Llquantize:
      return nbins;
    default:
      return 1;
  }
}

int64_t initial_value(AggFunc f) {
  if (f == AggFunc::Min) return std::numeric_limits<int64_t>::max();
  if (f == AggFunc::Max) return std::numeric_limits<int64_t>::min();
  return 0;
}

}  // namespace

AggState::Layout AggState::layout(AggDef d) {
  Layout l;
  switch (d.func) {
    case AggFunc::Quantize:
      l.nbins = kQuantizeBuckets;
      break;
    case AggFunc::Lquantize:
      if (d.step <= 0) d.step = 1;
      l.levels = bytecode::lquantize_levels(d.base, d.limit, d.step);
      l.nbins = static_cast<uint32_t>(l.levels + 2);
      break;
    case AggFunc::Llquantize: {
      l.llq = std::make_shared<const bytecode::Llquantize>(d.factor, d.low, d.high, d.nsteps);
      d.factor = l.llq->factor;  // sanitized
      d.low = l.llq->low;
      d.high = l.llq->high;
      d.nsteps = l.llq->nsteps;
      l.nbins = l.llq->nbins();
      break;
    }
    default:
      break;
  }
  l.def = std::move(d);
  return l;
}

AggState::AggState(Layout l)
    : def(std::move(l.def)),
      nbins(l.nbins),
      levels(l.levels),
      llq(std::move(l.llq)),
      table(values_per_key(def.func, nbins), initial_value(def.func)) {}

std::vector<uint32_t> AggState::sorted(const AggSortOptions& sort) const {
  std::vector<uint32_t> idx(table.size());
  for (uint32_t i = 0; i < idx.size(); i++) idx[i] = i;
  if (sort.sort_by_key) {
    std::sort(idx.begin(), idx.end(), [&](uint32_t a, uint32_t b) {
      const int c = key_cmp(table.key(a), table.key(b), def.key_types, sort.keypos);
      return sort.reverse ? c > 0 : c < 0;
    });
    return idx;
  }
  return by_value(sort.reverse, sort.keypos);
}

int AggState::compare(const int64_t* da, std::string_view ka, const int64_t* db,
                      std::string_view kb, const AggSortOptions& sort) const {
  int c = 0;
  if (!sort.sort_by_key) {
    const SortVal x = sort_value(*this, da), y = sort_value(*this, db);
    if (x.v != y.v)
      c = x.v < y.v ? -1 : 1;
    else if (x.zero != y.zero)
      c = x.zero < y.zero ? -1 : 1;
  }
  if (c == 0) c = key_cmp(ka, kb, def.key_types, sort.keypos);
  return sort.reverse ? -c : c;
}

std::vector<uint32_t> AggState::by_value(bool reverse, uint32_t keypos) const {
  std::vector<SortVal> vals(table.size());
  for (size_t i = 0; i < vals.size(); i++) vals[i] = sort_value(*this, table.values(i));
  std::vector<uint32_t> idx(table.size());
  for (uint32_t i = 0; i < idx.size(); i++) idx[i] = i;
  std::sort(idx.begin(), idx.end(), [&](uint32_t a, uint32_t b) {
    int c = 0;
    const SortVal &x = vals[a], &y = vals[b];
    if (x.v != y.v)
      c = x.v < y.v ? -1 : 1;
    else if (x.zero != y.zero)
      c = x.zero < y.zero ? -1 : 1;
    else
      c = key_cmp(table.key(a), table.key(b), def.key_types, keypos);
    return reverse ? c > 0 : c < 0;
  });
  return idx;
}

Aggregation::Aggregation(AggDef def, AggBudget* budget, const StackTable* stacks)
    : impl_(std::make_unique<Impl>(std::move(def))), budget_(budget), stacks_(stacks) {}
Aggregation::~Aggregation() = default;

const AggDef& Aggregation::def() const {
  return impl_->def;
}
size_t Aggregation::size() const {
  return impl_->table.size();
}
uint64_t Aggregation::smallest_entry() const {
  return impl_->table.entry_cost(0);
}

int64_t* Aggregation::entry(std::string_view key) {
  Impl& im = *impl_;
  uint32_t h, pos;
  int64_t* v = im.table.find(key, h, pos);
  if (v == nullptr) {
    if (budget_ != nullptr) {
      const uint64_t cost = im.table.entry_cost(key.size());
      if (cost > budget_->capacity - std::min(budget_->used, budget_->capacity)) {
        ++budget_->drops;
        return nullptr;
      }
      budget_->used += cost;
    }
    v = im.table.insert(key, h, pos);
  }
  return v;
}

void Aggregation::merge_partial(std::string_view key, const int64_t* values) {
  int64_t* v = entry(key);
  if (v == nullptr) return;
  switch (impl_->def.func) {
    case AggFunc::Count:
    case AggFunc::Sum:
      add(v[0], values[0]);
      break;
    case AggFunc::Avg:
      add(v[0], values[0]);
      add(v[1], values[1]);
      break;
    case AggFunc::Min:
      v[0] = std::min(v[0], values[0]);
      break;
    case AggFunc::Max:
      v[0] = std::max(v[0], values[0]);
      break;
    case AggFunc::Stddev: {
      add(v[0], values[0]);
      add(v[1], values[1]);
      const u128 a =
          (static_cast<u128>(static_cast<uint64_t>(v[3])) << 64) | static_cast<uint64_t>(v[2]);
      const u128 b = (static_cast<u128>(static_cast<uint64_t>(values[3])) << 64) |
                     static_cast<uint64_t>(values[2]);
      const u128 s = a + b;
      v[2] = static_cast<int64_t>(static_cast<uint64_t>(s));
      v[3] = static_cast<int64_t>(static_cast<uint64_t>(s >> 64));
      break;
    }
    case AggFunc::Quantize:
    case AggFunc::Lquantize:
    case AggFunc::Llquantize:
      for (uint32_t i = 0; i < impl_->nbins; ++i) add(v[i], values[i]);
      break;
  }
}

void Aggregation::update(std::string_view key, int64_t value, int64_t incr) {
  Impl& im = *impl_;
  int64_t* v = entry(key);
  if (v == nullptr) return;
  switch (im.def.func) {
    case AggFunc::Count:
      add(v[0], 1);
      break;
    case AggFunc::Sum:
      add(v[0], value);
      break;
    case AggFunc::Avg:
      add(v[0], 1);
      add(v[1], value);
      break;
    case AggFunc::Min:
      v[0] = std::min(v[0], value);
      break;
    case AggFunc::Max:
      v[0] = std::max(v[0], value);
      break;
    case AggFunc::Stddev: {
      add(v[0], 1);
      add(v[1], value);
      const uint64_t a = abs_u(value);
      u128 s = (static_cast<u128>(static_cast<uint64_t>(v[3])) << 64) | static_cast<uint64_t>(v[2]);
      s += static_cast<u128>(a) * a;
      v[2] = static_cast<int64_t>(static_cast<uint64_t>(s));
      v[3] = static_cast<int64_t>(static_cast<uint64_t>(s >> 64));
      break;
    }
    case AggFunc::Quantize:
      add(v[quantize_bucket(value)], incr);
      break;
    case AggFunc::Lquantize: {
      const AggDef& d = im.def;
      int64_t b;
      if (value < d.base) {
        b = 0;
      } else {
        // value - base cannot overflow as unsigned once value >= base
        const uint64_t level = (static_cast<uint64_t>(value) - static_cast<uint64_t>(d.base)) /
                               static_cast<uint64_t>(d.step);
        b = level < static_cast<uint64_t>(im.levels) ? static_cast<int64_t>(level) + 1
                                                     : im.levels + 1;
      }
      add(v[b], incr);
      break;
    }
    case AggFunc::Llquantize:
      add(v[im.llq->bin(value)], incr);
      break;
  }
}

// clear() zeroes the data as libdtrace does (bzero), min()/max() included.
void Aggregation::clear() {
  impl_->table.fill_values(0);
}

template <typename Op>
void Aggregation::shrink(Op op) {
  const uint64_t before = impl_->table.bytes();
  op();
  if (budget_ != nullptr) budget_->used -= std::min(budget_->used, before - impl_->table.bytes());
}

void Aggregation::trunc_all() {
  shrink([&] { impl_->table.clear(); });
}

void Aggregation::trunc(int64_t n) {
  Impl& im = *impl_;
  if (n == 0) {
    trunc_all();
    return;
  }
  const uint64_t keep = abs_u(n);
  if (keep >= im.table.size()) return;
  // Keep the first |n| rows of the value walk: descending for n > 0, ascending for n < 0.
  std::vector<uint32_t> order = im.by_value(n > 0);
  order.resize(keep);
  shrink([&] { im.table.keep(order); });
}

void Aggregation::normalize(int64_t n) {
  impl_->normal = n > 0 ? n : 1;
}
void Aggregation::denormalize() {
  impl_->normal = 1;
}

size_t Aggregation::memory_bytes() const {
  return sizeof(Aggregation) + sizeof(Impl) + impl_->table.memory_bytes() - sizeof(AggTable);
}

}  // namespace vtrace::engine
