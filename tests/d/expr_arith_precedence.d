/*
 * Arithmetic precedence and associativity as in C: * / % bind tighter than + -, all
 * left-associative; division truncates toward zero and % takes the dividend's sign.
 *
 * @args: -q
 */

BEGIN
{
	printf("%d\n", 2 + 3 * 4);
	printf("%d\n", (2 + 3) * 4);
	printf("%d\n", 10 - 4 - 3);
	printf("%d\n", 100 / 10 / 5);
	printf("%d\n", 17 % 5);
	printf("%d\n", 2 * 3 % 4);
	printf("%d\n", 7 - 2 * 3 + 1);
	printf("%d\n", -7 / 2);
	printf("%d\n", 7 / -2);
	printf("%d\n", -7 % 2);
	printf("%d\n", 7 % -2);
	printf("%d\n", 1 + 2 * 3 - 4 / 2 % 3);
	exit(0);
}
