/*
 * Several clauses for one probe run in program order; a false predicate skips only its
 * clause.
 *
 */

#pragma D option quiet

BEGIN
{
	printf("one\n");
	x = 1;
}

BEGIN
/x == 2/
{
	printf("skipped\n");
}

BEGIN
/x == 1/
{
	printf("two\n");
	x = 2;
}

BEGIN
/x == 2/
{
	printf("three\n");
	exit(0);
}
