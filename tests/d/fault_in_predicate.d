/*
 * A fault in a predicate fires ERROR and the clause body does not run.
 *
 */

#pragma D option quiet

int y;

BEGIN
/(1 / y) == 0/
{
	printf("body\n");
}

BEGIN
{
	printf("next\n");
	exit(0);
}
