/*
 * Bitwise and shift precedence as in C: shifts below + -, then relational, equality, &, ^, |.
 *
 * @args: -q
 */

BEGIN
{
	printf("%d\n", 1 | 2 & 3);
	printf("%d\n", 6 ^ 3 & 5);
	printf("%d\n", 1 | 4 ^ 5);
	printf("%d\n", 1 << 2 + 1);
	printf("%d\n", 16 >> 1 + 1);
	printf("%d\n", 1 + 2 << 3);
	printf("%d\n", 5 & 3 == 1);
	printf("%d\n", (5 & 3) == 1);
	printf("%d\n", 0xf0 | 0x0f);
	printf("%d\n", 0xff & ~0x0f);
	printf("%d\n", 0xff ^ 0x0f);
	printf("%d\n", 1 << 3 << 2);
	printf("%d\n", 256 >> 2 >> 1);
	exit(0);
}
