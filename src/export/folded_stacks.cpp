#include "export/folded_stacks.h"

#include <algorithm>
#include <string>

#include "engine/stack_table.h"

namespace vtrace::exporters {

namespace {

// flamegraph.pl splits a line at its last space and frames at ';': neither may be in a frame.
std::string frame_text(std::string_view s) {
  std::string out(s);
  std::replace(out.begin(), out.end(), ';', ':');
  std::replace(out.begin(), out.end(), '\n', ' ');
  return out;
}

}  // namespace

void FoldedStacks::firing(const engine::Firing& f) {
  for (const engine::FiringItem& it : f.items) {
    if (it.kind == engine::FiringItem::Kind::Printa)
      for (const auto& a : f.printed(it)) fold(*a);
    else
      ++unfoldable_firings_;
  }
}

void FoldedStacks::fold(const engine::AggSnapshot& a) {
  const auto& types = a.def().key_types;
  const bool has_stack =
      std::any_of(types.begin(), types.end(), [](const lang::Type& t) { return t.is_stack(); });
  if (!has_stack || a.is_distribution()) {
    ++unfoldable_aggs_;
    return;
  }
  std::vector<bytecode::TupleElem> keys;
  std::string line;
  for (size_t r = 0; r < a.rows(); ++r) {
    a.keys(r, keys);
    line.clear();
    auto add = [&](const std::string& frame) {
      if (!line.empty()) line += ';';
      line += frame_text(frame);
    };
    for (const auto& k : keys) {
      if (k.type.is_string()) {
        add(std::string(k.s));
      } else if (!k.type.is_stack()) {
        add(std::to_string(k.i));
      } else if (a.stacks() != nullptr) {
        std::string note;
        std::vector<std::string> frames = a.stacks()->frames(k.i, note);
        if (!note.empty()) add(note);  // where the unwinder stopped: the root end
        for (auto f = frames.rbegin(); f != frames.rend(); ++f) add(*f);
      }
    }
    if (line.empty()) line.assign(1, '-');  // (= "-": a false -Wrestrict of gcc 12)
    line += ' ' + std::to_string(a.value(r)) + '\n';
    out_.write(line);
  }
}

void FoldedStacks::end(const std::vector<std::shared_ptr<const engine::AggSnapshot>>& aggs) {
  for (const auto& a : aggs) fold(*a);
  if (unfoldable_firings_ > 0)
    std::fprintf(err_,
                 "vtrace: oformat=folded: %llu printf()/trace() outputs have no folded form\n",
                 static_cast<unsigned long long>(unfoldable_firings_));
  if (unfoldable_aggs_ > 0)
    std::fprintf(err_,
                 "vtrace: oformat=folded: %llu aggregation prints had no stack key (or were "
                 "distributions) and have no folded form\n",
                 static_cast<unsigned long long>(unfoldable_aggs_));
}

}  // namespace vtrace::exporters
