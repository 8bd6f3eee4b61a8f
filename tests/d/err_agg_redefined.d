/*
 * An aggregation used with two different aggregating functions is DTrace's
 * "aggregation redefined" error, naming both and the line of the first.
 *
 * @exit: 1
 */

BEGIN
{
	@a = count();
}

END
{
	@a = sum(1);
}
