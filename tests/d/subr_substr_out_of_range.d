/*
 * An index outside the string is a fault in vtrace (issue 2): dtrace:::ERROR fires with a
 * message naming substr and the clause; the clause's output is discarded and the next clause runs.
 *
 */

#pragma D option quiet

BEGIN
{
	printf("discarded\n");
	x = substr("hello", 10);
	printf("not reached\n");
}

ERROR
{
	printf("ERROR fired\n");
}

BEGIN
{
	printf("next clause\n");
	exit(0);
}
