// The compact keyed store behind an aggregation, and the aggregation's shared internals.
//
// Layout (per key): one 16-byte Entry (key offset/length, hash), the key bytes in one arena, a
// fixed number of int64 values in one arena, and an 8-byte open-addressing slot (load <= 3/4).
// No per-key allocation: update() on an existing key is a hash, a probe and an add.
#pragma once
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "bytecode/agg_bins.h"
#include "engine/aggregation.h"

namespace vtrace::engine {

class AggTable {
 public:
  // Every entry holds `nvals` int64 values, each starting at `init`.
  AggTable(uint32_t nvals, int64_t init);

  // The values of `key`, or nullptr with `h` its hash and `pos` the free slot insert() takes.
  // The pointer is valid until the next insertion.
  int64_t* find(std::string_view key, uint32_t& h, uint32_t& pos) {
    h = hash(key);
    pos = h & mask_;
    for (;;) {
      const Slot s = slots_[pos];
      if (s.idx1 == 0) return nullptr;
      if (s.tag == h) {
        const Entry& e = entries_[s.idx1 - 1];
        if (e.key_len == key.size() &&
            (key.empty() || std::memcmp(keys_.data() + e.key_off, key.data(), key.size()) == 0))
          return vals_.data() + size_t{s.idx1 - 1} * nvals_;
      }
      pos = (pos + 1) & mask_;
    }
  }
  // Adds `key` (absent: find() returned nullptr with this h and pos) with initial values.
  int64_t* insert(std::string_view key, uint32_t h, uint32_t pos);

  // The values of `key`, created if absent. The pointer is valid until the next insertion.
  int64_t* find_or_insert(std::string_view key) {
    uint32_t h, pos;
    int64_t* v = find(key, h, pos);
    return v != nullptr ? v : insert(key, h, pos);
  }

  // What one key costs against the aggsize bound: its bytes, its values, and the entry and slot
  // that index it (rounded up for the slots' free quarter).
  uint64_t entry_cost(size_t key_len) const { return 32 + key_len + uint64_t{8} * nvals_; }
  // The sum of entry_cost() over the keys held.
  uint64_t bytes() const { return bytes_; }

  size_t size() const { return entries_.size(); }
  uint32_t nvals() const { return nvals_; }
  std::string_view key(size_t i) const {
    return {keys_.data() + entries_[i].key_off, entries_[i].key_len};
  }
  int64_t* values(size_t i) { return vals_.data() + i * nvals_; }
  const int64_t* values(size_t i) const { return vals_.data() + i * nvals_; }

  void fill_values(int64_t v);                  // every value of every key = v
  void clear();                                 // drop every key
  void keep(const std::vector<uint32_t>& idx);  // keep only these entries
  size_t memory_bytes() const;

  static uint32_t hash(std::string_view key);

 private:
  struct Entry {
    uint64_t key_off;
    uint32_t key_len;
    uint32_t hash;
  };
  struct Slot {
    uint32_t tag;   // the key's hash
    uint32_t idx1;  // entry index + 1; 0 = empty
  };

  void rehash(size_t capacity);

  uint32_t nvals_;
  int64_t init_;
  uint32_t mask_ = 0;
  std::vector<Slot> slots_;
  std::vector<Entry> entries_;
  std::vector<char> keys_;
  std::vector<int64_t> vals_;
  uint64_t bytes_ = 0;
};

// The state shared by aggregation.cpp (updates, sorting, trunc) and aggregation_print.cpp.
struct AggState {
  // The definition with its parameters sanitized, and the bucket geometry derived from it.
  struct Layout {
    AggDef def;
    uint32_t nbins = 0;                               // quantize family: buckets per key
    int64_t levels = 0;                               // lquantize: (limit - base) / step
    std::shared_ptr<const bytecode::Llquantize> llq;  // llquantize: its bins
  };
  static Layout layout(AggDef d);

  explicit AggState(AggDef d) : AggState(layout(std::move(d))) {}
  explicit AggState(Layout l);

  AggDef def;
  uint32_t nbins;
  int64_t levels;
  std::shared_ptr<const bytecode::Llquantize> llq;
  int64_t normal = 1;  // normalize() divisor
  AggTable table;

  // Entry indices in dtrace's output order.
  std::vector<uint32_t> sorted(const AggSortOptions& sort) const;
  // Output order of two rows (their values and keys) as sorted() orders rows: < 0, 0, > 0.
  int compare(const int64_t* da, std::string_view ka, const int64_t* db, std::string_view kb,
              const AggSortOptions& sort) const;
  // Sorted by value then key, ascending, ignoring the options (trunc's walk).
  std::vector<uint32_t> by_value(bool reverse, uint32_t keypos = 0) const;
};

struct Aggregation::Impl : AggState {
  using AggState::AggState;
};

// stddev as dt_stddev() computes it from {count, sum, sum of squares (128-bit lo, hi)}.
uint64_t agg_stddev(const int64_t* data, uint64_t normal);

// quantize(): bucket index of a value and the value a bucket is labelled with.
using bytecode::kQuantizeBuckets;
using bytecode::kQuantizeZero;
int64_t quantize_bucket_value(int b);

}  // namespace vtrace::engine
