/*
 * printa() of several aggregations joins their rows by key: the n-th %@ shows the n-th
 * aggregation, a key one of them lacks shows its zero value (an empty distribution for the
 * quantize family), and the rows sort as the first aggregation's would (by value, then key).
 * One aggregation named by several %@ shows it each time.
 *
 */

#pragma D option quiet

BEGIN
{
	@foo[123] = sum(123);
	@bar[456] = sum(456);
	@foo[789] = sum(789);
	@bar[789] = sum(7);
	@q[123] = quantize(4);
	@one = sum(5);
	printa("%5d %@5d %@5d\n", @foo, @bar);
	printa("%d:%@d%@d\n", @foo, @q);
	printa("%@d %@d %@d\n", @one);
	exit(0);
}
