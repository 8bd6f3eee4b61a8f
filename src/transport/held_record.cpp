#include "transport/held_record.h"

#include <cstring>

namespace vtrace {

namespace {

constexpr size_t round8(size_t n) {
  return (n + 7) & ~size_t{7};
}

// Bytes of a copied string's text, with its NUL (0 when it could not be read at the probe).
size_t string_bytes(const CopiedString& c) {
  return c.len >= 0 && c.str != nullptr ? static_cast<size_t>(c.len) + 1 : 0;
}

size_t frames_of(const GatheredStack& s) {
  return s.frames != nullptr && s.n > 0 ? static_cast<size_t>(s.n) : 0;
}

}  // namespace

HeldRecord::HeldRecord(const Record& rec) : rec_(rec) {
  const size_t ncopies = rec.copies != nullptr ? rec.ncopies : 0;
  size_t size = 8 * (frames_of(rec.kstack) + frames_of(rec.ustack)) +
                round8(ncopies * sizeof(CopiedString)) +
                round8(rec.tail != nullptr ? rec.tail_len : 0) +
                round8(rec.data != nullptr ? rec.data_len : 0);
  for (size_t i = 0; i < ncopies; ++i) size += round8(string_bytes(rec.copies[i]));
  if (size > 0) block_ = std::make_unique<uint64_t[]>(size / 8);
  auto* at = reinterpret_cast<uint8_t*>(block_.get());
  // Copies n bytes to the block, returns where they went; the next piece stays 8-byte aligned.
  auto put = [&](const void* src, size_t n) {
    uint8_t* dst = at;
    std::memcpy(dst, src, n);
    at += round8(n);
    return dst;
  };
  for (GatheredStack* s : {&rec_.kstack, &rec_.ustack})
    if (size_t n = frames_of(*s); n > 0)
      s->frames = reinterpret_cast<const uint64_t*>(put(s->frames, 8 * n));
  if (ncopies > 0) {
    auto* copies = reinterpret_cast<CopiedString*>(put(rec.copies, ncopies * sizeof(CopiedString)));
    for (size_t i = 0; i < ncopies; ++i)
      copies[i].str =
          string_bytes(copies[i]) > 0
              ? reinterpret_cast<const char*>(put(copies[i].str, string_bytes(copies[i])))
              : nullptr;  // never a pointer into the ring it came from
    rec_.copies = copies;
  }
  rec_.tail = rec.tail != nullptr && rec.tail_len > 0
                  ? reinterpret_cast<const char*>(put(rec.tail, rec.tail_len))
                  : nullptr;
  rec_.data = rec.data != nullptr && rec.data_len > 0 ? put(rec.data, rec.data_len) : nullptr;
}

}  // namespace vtrace
