/*
 * printa() of two aggregations in a row: each starts with its blank line.
 *
 */

#pragma D option quiet

BEGIN
{
	@a["x"] = count();
	@b["y"] = sum(7);
	printa(@a);
	printa(@b);
	exit(0);
}
