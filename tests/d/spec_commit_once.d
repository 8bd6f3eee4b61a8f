/*
 * Committed data appears once: a second commit() of the same (now inactive) speculation is a
 * no-op, not a fault, as in dtrace.
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
	printf("speculative\n");
}

BEGIN
{
	commit(s);
}

BEGIN
{
	commit(s);
}

BEGIN
{
	printf("done\n");
	exit(0);
}
