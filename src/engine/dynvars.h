// Dynamic variables: the elements of associative arrays and self-> variables, keyed by
// (variable, [target, thread,] tuple). Storing 0 or "" frees an element, as in DTrace; the store
// is bounded by the dynvarsize option and a store that does not fit is counted as a drop.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace vtrace::engine {

struct DynValue {
  int64_t i = 0;
  std::string s;
};

class DynVarStore {
 public:
  explicit DynVarStore(uint64_t capacity_bytes) : capacity_(capacity_bytes) {}

  const DynValue* find(std::string_view key) const {
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : &it->second;
  }
  void store_int(std::string_view key, int64_t v);
  void store_str(std::string_view key, std::string_view s);

  uint64_t drops() const { return drops_; }
  size_t size() const { return map_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // Rough bytes an element costs (node, key, string), for the dynvarsize bound.
  static uint64_t cost(std::string_view key, size_t str_len) { return 64 + key.size() + str_len; }
  void erase(std::string_view key);
  DynValue* slot(std::string_view key, size_t str_len);

  std::unordered_map<std::string, DynValue, Hash, std::equal_to<>> map_;
  uint64_t capacity_;
  uint64_t used_ = 0;
  uint64_t drops_ = 0;
};

}  // namespace vtrace::engine
