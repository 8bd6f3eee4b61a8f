/*
 * Calling an action with the wrong number of arguments is DTrace's prototype mismatch.
 *
 * @exit: 1
 */

BEGIN
{
	exit();
}
