/*
 * ERROR's arguments: arg1 the faulting enabled probe ID (epid), arg4 the fault code
 * (DTRACEFLT_DIVZERO = 4), arg3 the DIF offset (not negative).
 *
 */

#pragma D option quiet

int y;

BEGIN
{
	myepid = epid;
	x = 1 / y;
}

ERROR
{
	printf("%d %d %d\n", arg1 == myepid, arg4, arg3 >= 0);
	exit(0);
}
