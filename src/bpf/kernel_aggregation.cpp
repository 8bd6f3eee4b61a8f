#include "bpf/kernel_aggregation.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "bpf/clause_program.h"
#include "bpf/program.h"

namespace vtrace::bpf {

std::unique_ptr<KernelAggregation> KernelAggregation::create(const bytecode::AggInfo& agg,
                                                             uint32_t max_entries,
                                                             std::string& err) {
  std::unique_ptr<KernelAggregation> k(new KernelAggregation());
  k->func_ = agg.func;
  uint32_t size = 0;
  for (const lang::Type& t : agg.key_types) {
    k->string_keys_.push_back(t.is_string());
    size += t.is_string() ? 16 : 8;
  }
  k->key_size_ = std::max<uint32_t>(8, size);
  k->nvalues_ = kernel_agg_values(agg);
  k->map_ = create_map(BPF_MAP_TYPE_PERCPU_HASH, "vt_agg", k->key_size_, 8 * k->nvalues_,
                       max_entries, "the map of @" + agg.name, err);
  if (!k->map_.valid()) return nullptr;
  return k;
}

uint64_t KeyStrings::intern(const std::string& s) {
  auto it = std::find(list_.begin(), list_.end(), s);
  if (it != list_.end()) return static_cast<uint64_t>(it - list_.begin());
  list_.push_back(s);
  return list_.size() - 1;
}

bool KernelAggregation::read(const PartialFn& fn, const KeyStrings& strings,
                             std::string& err) const {
  const int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) {
    err = "cannot count the possible CPUs";
    return false;
  }
  std::vector<uint8_t> key(key_size_), next(key_size_);
  std::vector<int64_t> values(static_cast<size_t>(ncpu) * nvalues_);
  const void* prev = nullptr;
  while (bpf_map_get_next_key(map_.get(), prev, next.data()) == 0) {
    key = next;
    prev = key.data();
    if (bpf_map_lookup_elem(map_.get(), key.data(), values.data()) != 0) {
      if (errno == ENOENT) continue;  // removed meanwhile
      err = std::string("reading an aggregation map: ") + std::strerror(errno);
      return false;
    }
    // The engine's tuple encoding: integers as they are, strings up to their NUL, and a NUL.
    std::string tuple;
    const char* at = reinterpret_cast<const char*>(key.data());
    for (bool str : string_keys_) {
      if (str) {
        uint64_t n = 0;
        std::memcpy(&n, at + 8, 8);
        const std::string* s = at[0] == 0 && at[1] == kKeyStringTag ? strings.find(n) : nullptr;
        if (s != nullptr)
          tuple.append(*s);
        else
          tuple.append(at, strnlen(at, 15));
        tuple.push_back('\0');
        at += 16;
      } else {
        tuple.append(at, 8);
        at += 8;
      }
    }
    for (int c = 0; c < ncpu; ++c) {
      const int64_t* v = &values[static_cast<size_t>(c) * nvalues_];
      if (func_ == bytecode::AggFunc::Min || func_ == bytecode::AggFunc::Max) {
        if (v[1] != 0) fn(tuple, v);  // [value, seen]: the engine's layout is [value]
      } else if (c == 0 || std::any_of(v, v + nvalues_, [](int64_t x) { return x != 0; })) {
        fn(tuple, v);  // CPU 0 always: a key whose values are all zero still exists
      }
    }
  }
  return true;  // get_next_key ends with ENOENT after the last key (or on an empty map)
}

}  // namespace vtrace::bpf
