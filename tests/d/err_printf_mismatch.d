/*
 * A printf argument that does not fit its conversion is a compile error (DTrace's prototype
 * message), pointing at the printf call.
 *
 * @exit: 1
 */

BEGIN
{
	printf("%d\n", "not a number");
}
