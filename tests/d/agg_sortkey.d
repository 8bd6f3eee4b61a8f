/*
 * -x aggsortkey sorts the entries by key instead of by value.
 *
 * @args: -x aggsortkey
 */

#pragma D option quiet

BEGIN
{
	@a["c"] = sum(1);
	@a["a"] = sum(3);
	@a["b"] = sum(2);
	exit(0);
}
