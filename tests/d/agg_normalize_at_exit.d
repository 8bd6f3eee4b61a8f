/*
 * An aggregation normalized and printed at exit shows the normalized value, for avg too.
 *
 */

#pragma D option quiet

BEGIN
{
	@a = sum(1000);
	@b = avg(50);
	normalize(@a, 100);
	normalize(@b, 5);
	exit(0);
}
