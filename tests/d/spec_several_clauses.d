/*
 * Several clauses may speculate to one buffer; commit() emits their output in order.
 *
 */

#pragma D option quiet

BEGIN
{
	s = speculation();
}

BEGIN
{
	speculate(s);
	printf("one\n");
}

BEGIN
{
	speculate(s);
	printf("two\n");
}

BEGIN
{
	commit(s);
}

BEGIN
{
	exit(0);
}
