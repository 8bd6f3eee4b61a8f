// AggTable: open addressing over dense entry/key/value arenas.
#include "engine/aggregation_table.h"

#include <algorithm>

namespace vtrace::engine {

namespace {

inline uint64_t load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// 64x64->128 multiply folded to 64 bits: the mixing step of wyhash-style hashes.
inline uint64_t mix(uint64_t a, uint64_t b) {
  __extension__ using u128 = unsigned __int128;
  const u128 r = static_cast<u128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

constexpr uint64_t kP0 = 0xa0761d6478bd642full;
constexpr uint64_t kP1 = 0xe7037ed1a0b428dbull;
constexpr uint64_t kP2 = 0x8ebc6af09c88c6e3ull;

}  // namespace

uint32_t AggTable::hash(std::string_view key) {
  const char* p = key.data();
  size_t n = key.size();
  uint64_t h = kP0 ^ (n * kP1);
  while (n >= 8) {
    h = mix(h ^ load64(p), kP1);
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t t = 0;
    std::memcpy(&t, p, n);
    h = mix(h ^ t, kP2);
  }
  h = mix(h, kP0);
  return static_cast<uint32_t>(h ^ (h >> 32));
}

AggTable::AggTable(uint32_t nvals, int64_t init) : nvals_(nvals), init_(init) {
  rehash(16);
}

int64_t* AggTable::insert(std::string_view key, uint32_t h, uint32_t pos) {
  if ((entries_.size() + 1) * 4 > slots_.size() * 3) {
    rehash(slots_.size() * 2);
    pos = h & mask_;
    while (slots_[pos].idx1 != 0) pos = (pos + 1) & mask_;
  }
  const uint32_t idx = static_cast<uint32_t>(entries_.size());
  entries_.push_back({keys_.size(), static_cast<uint32_t>(key.size()), h});
  keys_.insert(keys_.end(), key.begin(), key.end());
  vals_.resize(vals_.size() + nvals_, init_);
  slots_[pos] = {h, idx + 1};
  bytes_ += entry_cost(key.size());
  return vals_.data() + size_t{idx} * nvals_;
}

void AggTable::rehash(size_t capacity) {
  slots_.assign(capacity, Slot{0, 0});
  slots_.shrink_to_fit();
  mask_ = static_cast<uint32_t>(capacity - 1);
  for (uint32_t i = 0; i < entries_.size(); i++) {
    uint32_t pos = entries_[i].hash & mask_;
    while (slots_[pos].idx1 != 0) pos = (pos + 1) & mask_;
    slots_[pos] = {entries_[i].hash, i + 1};
  }
}

void AggTable::fill_values(int64_t v) {
  std::fill(vals_.begin(), vals_.end(), v);
}

void AggTable::clear() {
  entries_ = {};
  keys_ = {};
  vals_ = {};
  bytes_ = 0;
  rehash(16);
}

void AggTable::keep(const std::vector<uint32_t>& idx) {
  std::vector<Entry> entries;
  std::vector<char> keys;
  std::vector<int64_t> vals;
  bytes_ = 0;
  entries.reserve(idx.size());
  vals.reserve(idx.size() * nvals_);
  for (uint32_t i : idx) {
    const Entry& e = entries_[i];
    entries.push_back({keys.size(), e.key_len, e.hash});
    keys.insert(keys.end(), keys_.begin() + e.key_off, keys_.begin() + e.key_off + e.key_len);
    vals.insert(vals.end(), values(i), values(i) + nvals_);
    bytes_ += entry_cost(e.key_len);
  }
  entries_ = std::move(entries);
  keys_ = std::move(keys);
  vals_ = std::move(vals);
  size_t cap = 16;
  while (entries_.size() * 4 > cap * 3) cap *= 2;
  rehash(cap);
}

size_t AggTable::memory_bytes() const {
  return sizeof(*this) + slots_.capacity() * sizeof(Slot) + entries_.capacity() * sizeof(Entry) +
         keys_.capacity() + vals_.capacity() * sizeof(int64_t);
}

}  // namespace vtrace::engine
