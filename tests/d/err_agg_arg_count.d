/*
 * An aggregating function called with the wrong number of arguments is DTrace's prototype
 * mismatch: sum() needs one.
 *
 * @exit: 1
 */

BEGIN
{
	@s = sum();
}
