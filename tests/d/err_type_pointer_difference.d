/*
 * Pointers to different types cannot be subtracted.
 *
 * @exit: 1
 */

BEGIN
{
	p = (int *)alloca(8);
	q = (char *)alloca(8);
	x = p - q;
}
