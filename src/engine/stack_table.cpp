#include "engine/stack_table.h"

namespace vtrace::engine {

namespace {

// A looked-up symbol as sys::stack_format takes it (views into `s`).
sys::Symbol view(const Symbol& s, uint64_t addr) {
  return sys::Symbol{addr, s.module, s.name, s.offset};
}

constexpr const char* kDropped = "<stack dropped: too many distinct stacks>";

}  // namespace

int64_t StackTable::intern(bool user, const UserSpace& in, const uint64_t* frames, size_t n,
                           int32_t error) {
  // A kernel stack is the same stack whichever process it ran for; a user stack is not.
  const UserSpace space = user ? in : UserSpace{in.target, 0, 0};
  std::string key;
  key.reserve(20 + n * 8);
  key.push_back(user ? 'u' : 'k');
  key.append(reinterpret_cast<const char*>(&space.target), sizeof space.target);
  key.append(reinterpret_cast<const char*>(&space.pid), sizeof space.pid);
  key.append(reinterpret_cast<const char*>(&space.image), sizeof space.image);
  key.append(reinterpret_cast<const char*>(&error), sizeof error);
  key.append(reinterpret_cast<const char*>(frames), n * sizeof(uint64_t));
  auto it = ids_.find(key);
  if (it != ids_.end()) return it->second;
  if (stacks_.size() >= capacity_) {
    ++drops_;
    return 0;
  }
  if (symbolizer_ != nullptr) symbolizer_->remember(user, space, frames, n);
  stacks_.push_back(Stack{user, space, error, std::vector<uint64_t>(frames, frames + n)});
  const int64_t id = static_cast<int64_t>(stacks_.size());
  ids_.emplace(std::move(key), id);
  return id;
}

Symbol StackTable::lookup(bool user, const UserSpace& space, uint64_t addr) const {
  if (symbolizer_ == nullptr) return {};
  return user ? symbolizer_->user(space, addr) : symbolizer_->kernel(space.target, addr);
}

const StackTable::Stack* StackTable::find(int64_t id) const {
  if (id <= 0 || static_cast<size_t>(id) > stacks_.size()) return nullptr;
  return &stacks_[static_cast<size_t>(id - 1)];
}

std::vector<Symbol> StackTable::symbols(const Stack& s) const {
  std::vector<Symbol> found;
  found.reserve(s.frames.size());
  for (uint64_t pc : s.frames) found.push_back(lookup(s.user, s.space, pc));
  return found;
}

std::string StackTable::format(int64_t id, sys::StackLayout layout) const {
  const Stack* s = find(id);
  if (s == nullptr) return sys::format_stack({}, layout, kDropped);
  const std::vector<Symbol> found = symbols(*s);  // owns the text the views below point into
  std::vector<sys::Symbol> frames;
  frames.reserve(found.size());
  for (size_t i = 0; i < found.size(); ++i) frames.push_back(view(found[i], s->frames[i]));
  return sys::format_stack(frames, layout, sys::unwind_note(s->user, s->error, s->frames.size()));
}

std::vector<std::string> StackTable::frames(int64_t id, std::string& note) const {
  std::vector<std::string> out;
  const Stack* s = find(id);
  if (s == nullptr) {
    note = kDropped;
    return out;
  }
  const std::vector<Symbol> found = symbols(*s);
  for (size_t i = 0; i < found.size(); ++i)
    out.push_back(sys::format_frame(view(found[i], s->frames[i]), true));
  note = sys::unwind_note(s->user, s->error, s->frames.size());
  return out;
}

std::string StackTable::symbol_text(char kind, bool user, const UserSpace& space, uint64_t addr,
                                    bool with_offset) const {
  const Symbol found = lookup(user, space, addr);
  const sys::Symbol sym = view(found, addr);
  return kind == 'm' ? sys::format_module(sym) : sys::format_frame(sym, with_offset);
}

}  // namespace vtrace::engine
