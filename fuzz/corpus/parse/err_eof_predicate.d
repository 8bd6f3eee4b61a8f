syscall::read:entry /pid ==
