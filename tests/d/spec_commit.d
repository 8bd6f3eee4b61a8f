/*
 * speculate() sends a clause's output to a speculative buffer; commit() copies it to the
 * output at the point of the commit, after data traced in between.
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
	printf("plain\n");
}

BEGIN
{
	commit(s);
}

BEGIN
{
	exit(0);
}
