/*
 * speculate() with an ID that is not a speculation buffer is a fault: ERROR fires.
 *
 */

#pragma D option quiet

BEGIN
{
	speculate(99);
	printf("not printed\n");
}

ERROR
{
	printf("error\n");
}

BEGIN
{
	exit(0);
}
