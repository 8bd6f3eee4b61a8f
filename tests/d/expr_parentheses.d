/*
 * Parentheses override precedence at any depth.
 *
 * @args: -q
 */

BEGIN
{
	printf("%d\n", ((((1 + 2) * 3) - 4) / 5));
	printf("%d\n", (1 + (2 * (3 - (4 / 2)))));
	printf("%d\n", (1 << (1 + 1)) | (8 >> (1 + 1)));
	printf("%d\n", !(1 && 0) && (0 || 1));
	exit(0);
}
