/*
 * llquantize(): log-linear buckets (factor 10, orders 0..2, 10 steps), as dt_print_llquantize.
 *
 */

#pragma D option quiet

BEGIN
{
	@a = llquantize(5, 10, 0, 2, 10);
	@a = llquantize(150, 10, 0, 2, 10);
	exit(0);
}
