/*
 * clear() zeroes the values but keeps the keys.
 *
 */

#pragma D option quiet

BEGIN
{
	@a["x"] = count();
	@a["x"] = count();
	clear(@a);
	@a["y"] = count();
	exit(0);
}
