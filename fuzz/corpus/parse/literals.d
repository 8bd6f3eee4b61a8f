BEGIN { a = 0x7fffffffffffffff; b = 0777; c = 18446744073709551615ULL; d = 10l; e = 'a' + '\n' + '\0'; f = 1U; trace(a); exit(0); }
