/*
 * An aggregation used with keys of different types is an error.
 *
 * @exit: 1
 */

BEGIN
{
	@a[1] = count();
	@a["one"] = count();
}
