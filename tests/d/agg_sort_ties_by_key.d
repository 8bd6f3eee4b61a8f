/*
 * Entries with equal values are sorted by key.
 *
 */

#pragma D option quiet

BEGIN
{
	@a["z"] = sum(1);
	@a["x"] = sum(1);
	@a["y"] = sum(1);
	@a["w"] = sum(0);
	@b["q"] = sum(0);
	exit(0);
}
