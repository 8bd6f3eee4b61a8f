/*
 * A tick probe's names: provider "profile", empty module and function, name "tick-1ms".
 *
 */

#pragma D option quiet

profile:::tick-1ms
{
	printf("%s:%s:%s:%s\n", probeprov, probemod, probefunc, probename);
	exit(0);
}
