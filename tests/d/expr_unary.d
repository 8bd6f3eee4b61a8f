/*
 * Unary minus, plus, logical not and bitwise complement, nested, on constants and variables.
 *
 * @args: -q
 */

BEGIN
{
	x = 5;
	printf("%d %d %d\n", -x, - -x, -(-x));
	printf("%d %d\n", +x, -+x);
	printf("%d %d %d\n", !x, !!x, !0);
	printf("%d %d %d\n", ~0, ~x, ~~x);
	printf("%d\n", -x * 2);
	printf("%d\n", ~x & 0xf);
	printf("%d\n", -2 - -3);
	exit(0);
}
