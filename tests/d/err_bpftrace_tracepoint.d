/*
 * A tracepoint written as bpftrace does fails with how vtrace spells it.
 *
 * @exit: 1
 */

tracepoint:syscalls:sys_enter_openat
{
}
