BEGIN { x = 0x1ffffffffffffffffffff; y = 99999999999999999999999; }
