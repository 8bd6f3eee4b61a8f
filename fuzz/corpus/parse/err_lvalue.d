BEGIN { 3 = x; (x + 1)++; }
