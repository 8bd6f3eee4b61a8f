/*
 * A conversion without an argument is a compile-time error.
 *
 * @exit: 1
 */

BEGIN
{
	printf("%d %d\n", 1);
	exit(0);
}
