/*
 * lltostr() with a base below 2 is an illegal operation: ERROR fires and the script goes on.
 *
 */

#pragma D option quiet

BEGIN
{
	x = lltostr(10, 1);
}

ERROR
{
	printf("error\n");
}

BEGIN
{
	exit(0);
}
