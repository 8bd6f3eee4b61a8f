/*
 * Assignment and every compound assignment operator; each yields the new value.
 *
 * @args: -q
 */

BEGIN
{
	x = 10;
	x += 5;
	printf("%d\n", x);
	x -= 3;
	printf("%d\n", x);
	x *= 2;
	printf("%d\n", x);
	x /= 5;
	printf("%d\n", x);
	x %= 3;
	printf("%d\n", x);
	x <<= 4;
	printf("%d\n", x);
	x >>= 2;
	printf("%d\n", x);
	x |= 3;
	printf("%d\n", x);
	x &= 5;
	printf("%d\n", x);
	x ^= 1;
	printf("%d\n", x);
	printf("%d\n", x += 10);
	exit(0);
}
