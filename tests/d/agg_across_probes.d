/*
 * An aggregation collects across probe firings: three ticks are counted, then printed at exit.
 *
 */

#pragma D option quiet

int n;

profile:::tick-1ms
/n < 3/
{
	n++;
	@ticks["tick"] = count();
	@total = sum(n);
}

profile:::tick-1ms
/n == 3/
{
	exit(0);
}
