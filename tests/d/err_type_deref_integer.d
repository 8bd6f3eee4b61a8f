/*
 * Only a pointer can be dereferenced: * of an integer is an error.
 *
 * @exit: 1
 */

BEGIN
{
	x = 1;
	y = *x;
}
