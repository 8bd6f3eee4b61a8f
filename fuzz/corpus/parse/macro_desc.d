syscall::$3:entry /pid == $target/ { @[probefunc] = count(); }
