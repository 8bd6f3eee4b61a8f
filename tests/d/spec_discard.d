/*
 * discard() throws the speculative output away.
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
	discard(s);
	exit(0);
}
