/*
 * count() with string keys, printed at exit after one newline, sorted by value (dtrace's
 * default layout: key left-aligned in 50 columns after two spaces, value in %16lld).
 *
 */

#pragma D option quiet

BEGIN
{
	@a["a"] = count();
	@a["a"] = count();
	@a["a"] = count();
	@a["b"] = count();
	@a["c"] = count();
	@a["c"] = count();
	exit(0);
}
