/*
 * A built-in variable is not an lvalue: assigning to it is an error.
 *
 * @exit: 1
 */

BEGIN
{
	pid = 1;
}
