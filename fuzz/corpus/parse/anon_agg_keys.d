syscall:::entry { @[execname, pid, probefunc] = count(); @named[probefunc] = max(arg0); }
END { printa("%s %d %s %@u\n", @); }
