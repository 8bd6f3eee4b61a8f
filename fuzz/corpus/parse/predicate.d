syscall::read:entry /execname == "sshd" && pid != 0/ { @bytes[execname] = sum(arg2); }
