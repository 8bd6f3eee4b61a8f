/*
 * quantize(): power-of-two buckets, with one zero row either side of the non-zero buckets
 * and the @ bar scaled to 40 columns.
 *
 */

#pragma D option quiet

BEGIN
{
	@a = quantize(1);
	@a = quantize(2);
	@a = quantize(2);
	@a = quantize(3);
	@a = quantize(8);
	exit(0);
}
