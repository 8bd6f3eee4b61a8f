/*
 * A constant index outside a declared array is refused when the script compiles.
 *
 * @exit: 1
 */

int a[5];

BEGIN
{
	trace(a[5]);
}
