/*
 * normalize(@a, n) divides the printed values by n (the data is kept).
 *
 */

#pragma D option quiet

BEGIN
{
	@a["x"] = sum(100);
	@a["y"] = sum(250);
	normalize(@a, 10);
	printa(@a);
	printa("%s=%@d\n", @a);
	exit(0);
}
