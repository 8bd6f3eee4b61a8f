/*
 * lquantize(value, lower, upper) without a step: the step is 1, as in DTrace.
 */

#pragma D option quiet

BEGIN
{
	@a = lquantize(1, 0, 3);
	@a = lquantize(2, 0, 3);
	exit(0);
}
