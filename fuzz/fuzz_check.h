// CHECK(cond): a fuzzer's invariant. When it fails the fuzzer aborts (libFuzzer keeps the input
// as a crash) after naming the file, line and condition.
#pragma once
#include <cstdio>
#include <cstdlib>

#define CHECK(cond)                                                                     \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)
