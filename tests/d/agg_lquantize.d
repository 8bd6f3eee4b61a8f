/*
 * lquantize(): linear buckets with the "< base" underflow and ">= limit" overflow rows.
 *
 */

#pragma D option quiet

BEGIN
{
	@a = lquantize(-1, 0, 10, 2);
	@a = lquantize(3, 0, 10, 2);
	@a = lquantize(3, 0, 10, 2);
	@a = lquantize(11, 0, 10, 2);
	@a = lquantize(10, 0, 10, 2);
	exit(0);
}
