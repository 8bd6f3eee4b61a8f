/*
 * A glob description tick-* enables every tick probe named in the program; one clause runs.
 *
 */

#pragma D option quiet

profile:::tick-5ms
{
	n++;
}

profile:::tick-*
/n >= 2/
{
	printf("ok\n");
	exit(0);
}
