// Throws and catches N exceptions: libstdc++'s own USDT probes (libstdcxx:::throw, catch) fire
// once each per exception. Usage: usdt_throw N
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

int main(int argc, char** argv) {
  long n = argc > 1 ? std::atol(argv[1]) : 10;
  long caught = 0;
  for (long i = 0; i < n; ++i) {
    try {
      throw std::runtime_error("usdt_throw");
    } catch (const std::exception&) {
      ++caught;
    }
  }
  std::printf("caught=%ld\n", caught);
  return 0;
}
