/*
 * llquantize() steps below the factor are allowed when they divide it. 5 steps per decade of
 * factor 10: the decade [1, 10) has buckets 1, 3, 5, 7, 9 (width 2) and [10, 100) has 10, 30,
 * 50, 70, 90 (width 20), as dtrace_aggregate_llquantize_bucket() computes them: 3 lands in 3,
 * 25 in 10, 0 in "< 1".
 *
 * @args: -q
 */

BEGIN
{
	@ = llquantize(0, 10, 0, 1, 5);
	@ = llquantize(3, 10, 0, 1, 5);
	@ = llquantize(25, 10, 0, 1, 5);
	exit(0);
}
