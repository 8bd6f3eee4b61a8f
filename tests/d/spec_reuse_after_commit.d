/*
 * After commit() the buffer is free again: speculation() returns an ID once more.
 *
 */

#pragma D option quiet
#pragma D option nspec=1

BEGIN
{
	a = speculation();
	commit(a);
}

BEGIN
{
	b = speculation();
	printf("%d\n", b != 0);
	exit(0);
}
