/*
 * stddev() as dtrace computes it: sqrt(avg(x^2) - avg(x)^2) in integers.
 *
 */

#pragma D option quiet

BEGIN
{
	@a = stddev(2);
	@a = stddev(4);
	@a = stddev(4);
	@a = stddev(4);
	@a = stddev(5);
	@a = stddev(5);
	@a = stddev(7);
	@a = stddev(9);
	@b = stddev(7);
	exit(0);
}
