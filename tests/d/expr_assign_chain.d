/*
 * Assignment is right-associative and is an expression whose value is the value assigned.
 *
 * @args: -q
 */

BEGIN
{
	a = b = c = 7;
	printf("%d %d %d\n", a, b, c);
	printf("%d\n", (x = 3) + 1);
	printf("%d\n", x);
	a += b *= 2;
	printf("%d %d\n", a, b);
	exit(0);
}
