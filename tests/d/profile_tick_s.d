/*
 * tick-1s fires once a second: the first firing exits.
 *
 */

#pragma D option quiet

profile:::tick-1s
{
	printf("%s\n", probename);
	exit(0);
}
