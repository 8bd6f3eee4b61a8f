web*:syscall::open*:entry, db[12]:syscall::?rite:return { trace(vcpu); }
