/*
 * demo.d: the vtrace quick-start demo (run by ./setup.sh):
 *
 *     vtrace -s examples/demo.d
 *
 * It needs no target and no privileges. For one second it counts the ticks of two profile
 * probes into an aggregation keyed by a string, feeds a counter into a power-of-two
 * histogram (quantize), then exits; at exit it prints both aggregations with printa.
 */

#pragma D option quiet

int i;

BEGIN
{
	printf("vtrace demo: counting profile ticks for one second...\n");
	start = timestamp;
}

profile:::tick-10ms
{
	@ticks["tick-10ms"] = count();
	@dist = quantize(i++);
}

profile:::tick-100ms
{
	@ticks["tick-100ms"] = count();
}

profile:::tick-1s
{
	printf("%d ticks of 10 ms in %d ms\n", i, (timestamp - start) / 1000000);
	exit(0);
}

END
{
	printf("\nticks per probe:\n");
	printa("    %-12s %@d\n", @ticks);
	printf("\nthe 10 ms tick counter i (0, 1, 2, ...), quantized:\n");
	printa(@dist);
}
