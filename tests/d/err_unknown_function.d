/*
 * Calling a function that does not exist is an error naming it.
 *
 * @exit: 1
 */

BEGIN
{
	x = nosuchfunc(1, 2);
}
