/*
 * sum(), min() and max() without keys; several aggregations printed at exit follow each
 * other in the order they are declared, with no blank line between them (dtrace_aggregate_print).
 *
 */

#pragma D option quiet

BEGIN
{
	@s = sum(5);
	@mn = min(5);
	@mx = max(5);
	@s = sum(-3);
	@mn = min(-3);
	@mx = max(-3);
	@s = sum(10);
	@mn = min(10);
	@mx = max(10);
	exit(0);
}
