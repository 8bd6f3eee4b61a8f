BEGIN { a["x", 1] = 5; a["x", 1] += 2; a["x", 1]--; ++a["y", 2]; trace(a["x", 1]); exit(0); }
