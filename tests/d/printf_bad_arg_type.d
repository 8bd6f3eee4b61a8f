/*
 * A string given to %d is a compile-time error (the argument does not match the conversion).
 *
 * @exit: 1
 */

BEGIN
{
	printf("%d\n", "str");
	exit(0);
}
