/*
 * A printf format with more conversions than arguments is an error.
 *
 * @exit: 1
 */

BEGIN
{
	printf("%d %d\n", 1);
}
