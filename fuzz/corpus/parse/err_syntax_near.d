BEGIN { trace(foo bar); }
