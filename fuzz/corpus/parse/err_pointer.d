BEGIN { p = &x; trace(*p); }
