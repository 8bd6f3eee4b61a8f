/*
 * Aggregations keyed by a string and a 64-bit integer: each key printed in its own column.
 *
 */

#pragma D option quiet

BEGIN
{
	@a["x", (long long)2] = sum(5);
	@a["y", (long long)1] = sum(3);
	@a["x", (long long)1] = sum(4);
	exit(0);
}
