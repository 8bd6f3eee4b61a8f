/*
 * lquantize() with only in-range values shows one zero row either side.
 *
 */

#pragma D option quiet

BEGIN
{
	@a = lquantize(25, 0, 100, 10);
	@a = lquantize(45, 0, 100, 10, 3);
	exit(0);
}
