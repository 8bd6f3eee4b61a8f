#include "export/ctf_trace.h"
#include "export/hex_bytes.h"

#include <babeltrace/ctf-writer/clock.h>
#include <babeltrace/ctf-writer/event-fields.h>
#include <babeltrace/ctf-writer/event-types.h>
#include <babeltrace/ctf-writer/event.h>
#include <babeltrace/ctf-writer/stream-class.h>
#include <babeltrace/ctf-writer/stream.h>
#include <babeltrace/ctf-writer/writer.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "engine/engine.h"
#include "engine/stack_table.h"

// babeltrace/ctf/events.h has a function named bt_ctf_field_type too: the struct is spelled out.
using FieldType = struct bt_ctf_field_type;

namespace vtrace::exporters {

namespace {

// Owns one reference of a field type while classes are built.
struct TypeRef {
  FieldType* t;
  explicit TypeRef(FieldType* type) : t(type) {}
  ~TypeRef() {
    if (t != nullptr) bt_ctf_field_type_put(t);
  }
  TypeRef(const TypeRef&) = delete;
  TypeRef& operator=(const TypeRef&) = delete;
};

FieldType* int_type(unsigned bits, bool is_signed) {
  FieldType* t = bt_ctf_field_type_integer_create(bits);
  if (t != nullptr && bt_ctf_field_type_integer_set_signed(t, is_signed ? 1 : 0) != 0) {
    bt_ctf_field_type_put(t);
    return nullptr;
  }
  return t;
}

FieldType* type_of(const lang::Type& t) {
  if (t.is_string() || t.is_stack()) return bt_ctf_field_type_string_create();
  return int_type(t.size * 8u, t.is_signed);
}

bool add_field(bt_ctf_event_class* cls, FieldType* type, const std::string& name) {
  TypeRef ref(type);
  return type != nullptr && bt_ctf_event_class_add_field(cls, type, name.c_str()) == 0;
}

// The fields every event has.
bool add_common_fields(bt_ctf_event_class* cls) {
  return add_field(cls, bt_ctf_field_type_string_create(), "vmname") &&
         add_field(cls, bt_ctf_field_type_string_create(), "target") &&
         add_field(cls, bt_ctf_field_type_string_create(), "probe") &&
         add_field(cls, int_type(32, true), "cpu") && add_field(cls, int_type(32, true), "pid") &&
         add_field(cls, int_type(32, true), "tid") &&
         add_field(cls, bt_ctf_field_type_string_create(), "execname") &&
         add_field(cls, int_type(64, false), "timestamp_ns") &&
         add_field(cls, int_type(64, false), "clock_bound_ns");
}

bool set_string(bt_ctf_event* ev, const char* name, const std::string& value) {
  bt_ctf_field* f = bt_ctf_event_get_payload(ev, name);
  if (f == nullptr) return false;
  const int rc = bt_ctf_field_string_set_value(f, value.c_str());
  bt_ctf_field_put(f);
  return rc == 0;
}

bool set_int(bt_ctf_event* ev, const char* name, const lang::Type& t, int64_t v) {
  bt_ctf_field* f = bt_ctf_event_get_payload(ev, name);
  if (f == nullptr) return false;
  const int rc = t.is_signed ? bt_ctf_field_signed_integer_set_value(f, v)
                             : bt_ctf_field_unsigned_integer_set_value(f, static_cast<uint64_t>(v));
  bt_ctf_field_put(f);
  return rc == 0;
}

// A string a CTF string can hold: NUL ends it, so none inside.
std::string text_of(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c == '\0') c = '?';
  return out;
}

std::string stack_text(const engine::StackTable* stacks, int64_t id) {
  if (stacks == nullptr) return "<not symbolized>";
  std::string note, out;
  for (const std::string& f : stacks->frames(id, note)) out += f + "\n";
  return out + note;
}

bool set_value(bt_ctf_event* ev, const std::string& name, const lang::Type& t, int64_t i,
               std::string_view s, const engine::StackTable* stacks) {
  if (t.is_string()) return set_string(ev, name.c_str(), text_of(s));
  if (t.is_stack()) return set_string(ev, name.c_str(), stack_text(stacks, i));
  return set_int(ev, name.c_str(), t, i);
}

const lang::Type kI64 = lang::Type::i64();
const lang::Type kU64 = lang::Type::u64();

}  // namespace

std::unique_ptr<CtfTrace> CtfTrace::create(const engine::Engine& engine, const std::string& dir,
                                           std::string& error) {
  if (dir.empty()) {
    error = "oformat=ctf writes a trace directory: name it with -o DIR";
    return nullptr;
  }
  // A directory of our own, made now: nothing in it can have been planted by another user.
  if (::mkdir(dir.c_str(), 0755) != 0) {
    error = "cannot create CTF trace directory " + dir + ": " + std::strerror(errno) +
            (errno == EEXIST ? " (it must be a new directory)" : "");
    return nullptr;
  }
  std::unique_ptr<CtfTrace> t(new CtfTrace(engine));
  t->writer_ = bt_ctf_writer_create(dir.c_str());
  if (t->writer_ == nullptr) {
    error = "babeltrace's CTF writer could not create a trace in " + dir;
    ::rmdir(dir.c_str());  // ours, and still empty
    return nullptr;
  }
  if (!t->build_classes(error)) return nullptr;
  return t;
}

bool CtfTrace::build_classes(std::string& error) {
  error = "babeltrace's CTF writer refused the trace's description";
  clock_ = bt_ctf_clock_create("monotonic");
  if (clock_ == nullptr || bt_ctf_clock_set_frequency(clock_, 1000000000) != 0 ||
      bt_ctf_clock_set_description(clock_, "host CLOCK_MONOTONIC (guests' translated)") != 0 ||
      bt_ctf_writer_add_clock(writer_, clock_) != 0)
    return false;
  bt_ctf_writer_add_environment_field(writer_, "tracer_name", "vtrace");
  stream_class_ = bt_ctf_stream_class_create("vtrace");
  if (stream_class_ == nullptr || bt_ctf_stream_class_set_clock(stream_class_, clock_) != 0)
    return false;

  const bytecode::Module& mod = engine_.module();
  action_classes_.assign(mod.actions.size(), nullptr);
  for (size_t i = 0; i < mod.actions.size(); ++i) {
    const bytecode::Action& a = mod.actions[i];
    const bool is_printf = a.kind == bytecode::ActionKind::Printf;
    const bool is_tracemem = a.kind == bytecode::ActionKind::Tracemem;
    if (!is_printf && !is_tracemem && a.kind != bytecode::ActionKind::Trace) continue;
    const std::string name = std::string(is_printf     ? "printf"
                                         : is_tracemem ? "tracemem"
                                                       : "trace") +
                             "@" + std::to_string(a.loc.line) + ":" + std::to_string(a.loc.col);
    bt_ctf_event_class* cls = bt_ctf_event_class_create(name.c_str());
    if (cls == nullptr) return false;
    action_classes_[i] = cls;
    if (!add_common_fields(cls)) return false;
    if (is_tracemem) {
      // The bytes dumped, in hex.
      if (!add_field(cls, bt_ctf_field_type_string_create(), "bytes") ||
          bt_ctf_stream_class_add_event_class(stream_class_, cls) != 0)
        return false;
      continue;
    }
    for (size_t k = 0; k < a.arg_types.size(); ++k)
      if (!add_field(cls, type_of(a.arg_types[k]), "arg" + std::to_string(k))) return false;
    if (is_printf && !add_field(cls, bt_ctf_field_type_string_create(), "text")) return false;
    if (bt_ctf_stream_class_add_event_class(stream_class_, cls) != 0) return false;
  }
  for (const auto& ag : mod.aggs) {
    const std::string name = "aggregation@" + (ag.name.empty() ? std::string("_") : ag.name);
    bt_ctf_event_class* cls = bt_ctf_event_class_create(name.c_str());
    if (cls == nullptr) return false;
    agg_classes_.push_back(cls);
    if (!add_common_fields(cls)) return false;
    for (size_t k = 0; k < ag.key_types.size(); ++k)
      if (!add_field(cls, type_of(ag.key_types[k]), "key" + std::to_string(k))) return false;
    if (!add_field(cls, int_type(64, true), "value") ||
        !add_field(cls, bt_ctf_field_type_string_create(), "bucket") ||
        !add_field(cls, int_type(64, true), "bucket_min") ||
        !add_field(cls, int_type(64, true), "count"))
      return false;
    if (bt_ctf_stream_class_add_event_class(stream_class_, cls) != 0) return false;
  }
  stream_ = bt_ctf_writer_create_stream(writer_, stream_class_);
  if (stream_ == nullptr) return false;
  error.clear();
  return true;
}

CtfTrace::~CtfTrace() {
  if (stream_ != nullptr) {
    if (unflushed_ > 0) bt_ctf_stream_flush(stream_);
    bt_ctf_stream_put(stream_);
  }
  for (bt_ctf_event_class* c : action_classes_)
    if (c != nullptr) bt_ctf_event_class_put(c);
  for (bt_ctf_event_class* c : agg_classes_) bt_ctf_event_class_put(c);
  if (stream_class_ != nullptr) bt_ctf_stream_class_put(stream_class_);
  if (clock_ != nullptr) bt_ctf_clock_put(clock_);
  if (writer_ != nullptr) bt_ctf_writer_put(writer_);  // writes the metadata
}

bt_ctf_event* CtfTrace::start(bt_ctf_event_class* cls, const engine::Firing& f) {
  if (errno_ != 0) return nullptr;
  bt_ctf_event* ev = bt_ctf_event_create(cls);
  if (ev == nullptr) {
    fail();
    return nullptr;
  }
  const engine::ProbeInfo& p = engine_.catalog().probe(f.probe);
  const lang::Type i32 = lang::Type::i32();
  const bool ok = set_string(ev, "vmname", p.vmname) && set_string(ev, "target", p.target) &&
                  set_string(ev, "probe", p.full_name()) && set_int(ev, "cpu", i32, f.cpu) &&
                  set_int(ev, "pid", i32, f.pid) && set_int(ev, "tid", i32, f.tid) &&
                  set_string(ev, "execname", text_of(f.execname)) &&
                  set_int(ev, "timestamp_ns", kU64, static_cast<int64_t>(f.timestamp)) &&
                  set_int(ev, "clock_bound_ns", kU64, static_cast<int64_t>(f.clock_bound_ns));
  if (!ok) {
    bt_ctf_event_put(ev);
    fail();
    return nullptr;
  }
  last_ns_ = std::max(last_ns_, f.timestamp);
  if (bt_ctf_clock_set_time(clock_, static_cast<int64_t>(last_ns_)) != 0) fail();
  return ev;
}

void CtfTrace::append(bt_ctf_event* ev) {
  if (ev == nullptr) return;
  if (errno_ == 0 && bt_ctf_stream_append_event(stream_, ev) != 0) fail();
  bt_ctf_event_put(ev);
  ++unflushed_;
}

void CtfTrace::firing(const engine::Firing& f) {
  for (const engine::FiringItem& it : f.items) {
    if (it.kind == engine::FiringItem::Kind::Printa) {
      for (const auto& a : f.printed(it)) aggregation(*a, f);
      continue;
    }
    bt_ctf_event* ev = start(action_classes_[it.action], f);
    if (ev == nullptr) return;
    if (it.kind == engine::FiringItem::Kind::Tracemem) {
      if (!set_string(ev, "bytes", hex_bytes(f.values[it.first].s))) fail();
      append(ev);
      continue;
    }
    bool ok = true;
    for (uint32_t k = 0; k < it.count && ok; ++k) {
      const engine::FormatArg& v = f.values[it.first + k];
      ok = set_value(ev, "arg" + std::to_string(k), v.type, v.i, v.s, v.stacks);
    }
    if (ok && it.kind == engine::FiringItem::Kind::Printf) {
      std::string text;
      engine_.format(it.action).format(text, {f.values.data() + it.first, it.count});
      ok = set_string(ev, "text", text_of(text));
    }
    if (!ok) fail();
    append(ev);
  }
}

void CtfTrace::aggregation(const engine::AggSnapshot& a, const engine::Firing& at) {
  std::vector<bytecode::TupleElem> keys;
  for (size_t r = 0; r < a.rows(); ++r) {
    a.keys(r, keys);
    // One event per row, or per shown bucket of a distribution.
    std::vector<engine::AggSnapshot::Bucket> buckets = a.buckets(r);
    const size_t n = a.is_distribution() ? buckets.size() : 1;
    for (size_t b = 0; b < n; ++b) {
      bt_ctf_event* ev = start(agg_classes_[a.id()], at);
      if (ev == nullptr) return;
      bool ok = true;
      for (size_t k = 0; k < keys.size() && ok; ++k)
        ok = set_value(ev, "key" + std::to_string(k), keys[k].type, keys[k].i, keys[k].s,
                       a.stacks());
      if (a.is_distribution()) {
        const auto& bk = buckets[b];
        const std::string label = bk.label();
        ok = ok && set_int(ev, "value", kI64, 0) && set_string(ev, "bucket", label) &&
             set_int(ev, "bucket_min", kI64, bk.bound) && set_int(ev, "count", kI64, bk.count);
      } else {
        ok = ok && set_int(ev, "value", kI64, a.value(r)) && set_string(ev, "bucket", "") &&
             set_int(ev, "bucket_min", kI64, 0) && set_int(ev, "count", kI64, 0);
      }
      if (!ok) fail();
      append(ev);
    }
  }
}

void CtfTrace::end(const std::vector<std::shared_ptr<const engine::AggSnapshot>>& aggs) {
  engine::Firing at;  // the end of the run: the dtrace:::END probe, at the stream's time
  at.probe = engine::kProbeEnd;
  at.timestamp = last_ns_;
  for (const auto& a : aggs) aggregation(*a, at);
  flush();
}

bool CtfTrace::flush() {
  if (errno_ == 0 && unflushed_ > 0) {
    if (bt_ctf_stream_flush(stream_) != 0) fail();
    unflushed_ = 0;
  }
  return errno_ == 0;
}

}  // namespace vtrace::exporters
