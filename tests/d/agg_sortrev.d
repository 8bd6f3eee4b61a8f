/*
 * -x aggsortrev reverses the sort: largest value first.
 *
 * @args: -x aggsortrev
 */

#pragma D option quiet

BEGIN
{
	@a["c"] = sum(1);
	@a["a"] = sum(3);
	@a["b"] = sum(2);
	exit(0);
}
