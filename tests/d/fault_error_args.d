/*
 * ERROR's arguments, as Oracle's dtrace gives them: arg1 the faulting probe's ID, arg2 the number
 * of the faulting clause program (dt_clause_N: each probe description of each clause, from 0),
 * arg4 the fault code (DTRACEFLT_DIVZERO = 4), arg3 the DIF offset (not negative).
 *
 */

#pragma D option quiet

int y;

BEGIN
{
	myid = id;
}

tick-1s, BEGIN
{
	x = 1 / y;
}

ERROR
{
	printf("%d %d %d %d\n", arg1 == myid, arg2, arg4, arg3 >= 0);
	exit(0);
}
