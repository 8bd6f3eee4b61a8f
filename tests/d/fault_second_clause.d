/*
 * A fault in the second clause names clause #2; the first clause's output is kept.
 *
 */

#pragma D option quiet

int y;

BEGIN
{
	printf("first\n");
}

BEGIN
{
	x = 10 / y;
}

BEGIN
{
	exit(0);
}
