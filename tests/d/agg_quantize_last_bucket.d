/*
 * A value of 2^62 or more lands in quantize()'s last bucket, and is shown there (illumos' dtrace
 * stopped its scan before that bucket and printed an empty distribution).
 *
 * @args: -q
 */

BEGIN
{
	x = 0x4000000000000000;
	@ = quantize(x, 1234);
	exit(0);
}
