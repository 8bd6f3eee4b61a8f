/*
 * tracemem(addr, size[, nbytes]) dumps D memory as dtrace does: a header of offsets, 16 bytes
 * a row in hex and as characters; nbytes shows fewer (all when negative or larger, nothing when
 * 0). An address outside D memory faults with the address.
 */

#pragma D option quiet

BEGIN
{
	p = (char *)alloca(20);
	bcopy("Linux version 6.1\tand", p, 20);
	tracemem(p, 14);
	tracemem(p, 14, -1);
	tracemem(p, 14, 0);
	tracemem(p, 14, 2);
	tracemem(p, 20, 40);
}

BEGIN
{
	tracemem(8, 4);
}

ERROR
{
	printf("\nfault %d 0x%x\n", arg4, arg5);
	exit(0);
}
