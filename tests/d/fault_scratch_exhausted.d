/*
 * alloca() beyond the scratchsize option faults with "out of scratch space" (the size is
 * known only when the clause runs here; a constant one is refused at compile time, see
 * err_alloca_larger_than_scratch.d). The memory handed out so far stays usable.
 */

#pragma D option quiet
#pragma D option scratchsize=32

BEGIN
{
	n = 16;
	a = (char *)alloca(n);
	a[15] = 7;
	b = (char *)alloca(n);
	printf("%d\n", a[15]);
	c = alloca(n);
	printf("not reached\n");
}

ERROR
{
	printf("fault %d\n", arg4);
	exit(0);
}
