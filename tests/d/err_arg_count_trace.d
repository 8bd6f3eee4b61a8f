/*
 * trace() takes exactly one argument.
 *
 * @exit: 1
 */

BEGIN
{
	trace(1, 2);
}
