int n;
profile:::tick-10ms { if (n % 2 == 0) { @e = count(); } else if (n % 3 == 0) @t = count(); else { @o = count(); } n++; }
