BEGIN { x = (1 + 2 * 3 - 4 / 2 % 3) << 2 >> 1; y = x & 0xff | 0x10 ^ ~0; z = !x || x && y ^^ 1;
  w = x == y ? x != y : x <= y && x >= y && x < y && x > y; x *= 2; x /= 2; x %= 5; x <<= 1; x >>= 1;
  x &= 3; x |= 4; x ^= 1; x -= -x; x = +x; trace(w + z); exit(0); }
