/*
 * The DTRACEFLT_* constants name the fault dtrace:::ERROR reports in arg4, as in DTrace.
 *
 * @args: -q
 */

BEGIN
{
	i = 1;
	j = 0;
	j = i / j;
}

ERROR
{
	printf("%d %d %d %d\n", arg4 == DTRACEFLT_DIVZERO, DTRACEFLT_DIVZERO, DTRACEFLT_BADADDR,
	    DTRACEFLT_ILLOP);
	exit(0);
}
