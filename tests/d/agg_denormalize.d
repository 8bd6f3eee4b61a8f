/*
 * denormalize(@a) undoes normalize(): the raw values are printed again.
 *
 */

#pragma D option quiet

BEGIN
{
	@a["x"] = sum(100);
	normalize(@a, 10);
	denormalize(@a);
	exit(0);
}
