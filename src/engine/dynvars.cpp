#include "engine/dynvars.h"

namespace vtrace::engine {

void DynVarStore::erase(std::string_view key) {
  auto it = map_.find(key);
  if (it == map_.end()) return;
  used_ -= cost(it->first, it->second.s.size());
  map_.erase(it);
}

DynValue* DynVarStore::slot(std::string_view key, size_t str_len) {
  auto it = map_.find(key);
  if (it != map_.end()) {
    uint64_t old_cost = cost(key, it->second.s.size());
    uint64_t new_cost = cost(key, str_len);
    if (new_cost > old_cost && used_ + (new_cost - old_cost) > capacity_) {
      ++drops_;
      return nullptr;
    }
    used_ = used_ - old_cost + new_cost;
    return &it->second;
  }
  if (used_ + cost(key, str_len) > capacity_) {
    ++drops_;
    return nullptr;
  }
  used_ += cost(key, str_len);
  return &map_.emplace(std::string(key), DynValue{}).first->second;
}

void DynVarStore::store_int(std::string_view key, int64_t v) {
  if (v == 0) return erase(key);
  if (DynValue* d = slot(key, 0)) d->i = v;
}

void DynVarStore::store_str(std::string_view key, std::string_view s) {
  if (s.empty()) return erase(key);
  if (DynValue* d = slot(key, s.size())) d->s.assign(s);
}

}  // namespace vtrace::engine
