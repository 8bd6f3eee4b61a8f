/*
 * tick-10ms fires about 100 times a second: counted until tick-1s, the count is in a wide
 * range (never an exact timing).
 *
 */

#pragma D option quiet

profile:::tick-10ms
{
	n++;
}

profile:::tick-1s
{
	printf("%s\n", n >= 20 && n <= 150 ? "ok" : "bad count");
	exit(0);
}
