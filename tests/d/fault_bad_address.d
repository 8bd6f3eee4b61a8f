/*
 * A load through a pointer that is not scratch memory or a D variable (here NULL + 8) faults
 * with an invalid address error naming the address; ERROR gets DTRACEFLT_BADADDR (1) in arg4
 * and the address in arg5, and its exit(1) is the status: the first exit() decides, as in
 * dtrace, though the BEGIN clause after the faulting one still runs and calls exit(0).
 *
 * @exit: 1
 */

#pragma D option quiet

BEGIN
{
	p = (int *)NULL;
	trace(p[2]);
}

BEGIN
{
	printf("later clause\n");
	exit(0);
}

ERROR
{
	printf("%d 0x%x\n", arg4, arg5);
	exit(1);
}
