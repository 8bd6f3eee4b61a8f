web1:syscall::read:entry, host:sched:::switch { @[vmname, execname] = count(); }
