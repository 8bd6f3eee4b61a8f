#include "engine/text_consumer.h"

#include <span>

#include "engine/engine.h"

namespace vtrace::engine {

namespace {
// dtrace's dump of memory (tracemem): a header of column offsets, then 16 bytes a row in hex and
// as characters ('.' for what does not print); nothing for no bytes.
void format_bytes(std::string& out, std::string_view bytes) {
  if (bytes.empty()) return;
  constexpr int kMargin = 5;
  out += '\n';
  out.append(kMargin + 6, ' ');
  for (const char c : std::string_view("0123456789abcdef")) {
    out += "  ";
    out += c;
  }
  out += "  0123456789abcdef\n";
  char cell[40];
  for (size_t i = 0; i < bytes.size(); i += 16) {
    std::snprintf(cell, sizeof cell, "%*s%5zx:", kMargin, "", i);
    out += cell;
    const size_t end = std::min(bytes.size(), i + 16);
    for (size_t j = i; j < end; ++j) {
      std::snprintf(cell, sizeof cell, " %02x", static_cast<unsigned char>(bytes[j]));
      out += cell;
    }
    out.append(3 * (i + 16 - end), ' ');
    out += "  ";
    for (size_t j = i; j < end; ++j) out += bytes[j] < ' ' || bytes[j] > '~' ? '.' : bytes[j];
    out += '\n';
  }
}
}  // namespace

void TextConsumer::format_items(std::string& out, const Firing& f) const {
  const bool quiet = engine_.options().quiet;
  for (const FiringItem& it : f.items) {
    const std::span<const FormatArg> vals(f.values.data() + it.first, it.count);
    switch (it.kind) {
      case FiringItem::Kind::Trace:
        format_trace(out, vals[0], quiet);
        break;
      case FiringItem::Kind::Printf:
        engine_.format(it.action).format(out, vals);
        break;
      case FiringItem::Kind::Tracemem:
        format_bytes(out, vals[0].s);
        break;
      case FiringItem::Kind::Printa:
        if (engine_.module().actions[it.action].has_format)
          AggSnapshot::printa(out, engine_.format(it.action), f.printed(it), engine_.agg_sort());
        else if (f.snapshot(it).rows() == 0)
          out += '\n';  // dtrace prints the blank separator line even for no data
        else
          f.snapshot(it).print_default(out);
        break;
    }
  }
}

void TextConsumer::firing(const Firing& f) {
  buf_.clear();
  if (f.probe_line) {
    const bool testing = engine_.options().testing;
    if (!header_printed_) {
      header_printed_ = true;
      char hdr[64];
      if (testing)
        std::snprintf(hdr, sizeof hdr, "%32s\n", "FUNCTION:NAME");
      else
        std::snprintf(hdr, sizeof hdr, "%3s %6s %32s\n", "CPU", "ID", "FUNCTION:NAME");
      buf_ += hdr;
    }
    const ProbeInfo& p = engine_.catalog().probe(f.probe);
    const std::string fn = p.function + ":" + p.name;
    char line[128];
    if (testing)
      std::snprintf(line, sizeof line, "%32s ", fn.c_str());
    else
      std::snprintf(line, sizeof line, "%3d %6u %32s ", f.cpu, p.id, fn.c_str());
    buf_ += line;
  }
  format_items(buf_, f);
  if (f.line_end) buf_ += '\n';
  out_.write(buf_);
}

void TextConsumer::end(const std::vector<std::shared_ptr<const AggSnapshot>>& aggs) {
  // dtrace(1) prints one newline at the end of the run, quiet or not, whether or not anything
  // follows it, then every aggregation not printed yet, one after another with no blank line
  // between them (dtrace_aggregate_print).
  buf_.assign(1, '\n');  // (not = "\n": gcc 12 warns falsely, -Wrestrict)
  for (const auto& a : aggs) a->print_rows(buf_);
  out_.write(buf_);
}

}  // namespace vtrace::engine
