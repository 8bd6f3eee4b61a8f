/*
 * trace() and printf() output interleave in program order.
 *
 */

#pragma D option quiet

BEGIN
{
	trace("a");
	printf("b");
	trace(1);
	printf("%s\n", "c");
	exit(0);
}
