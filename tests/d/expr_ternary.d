/*
 * The conditional operator: lowest precedence above assignment, right-associative, with int
 * or string operands.
 *
 * @args: -q
 */

BEGIN
{
	x = 5;
	printf("%s\n", x > 3 ? "big" : x > 1 ? "mid" : "small");
	x = 2;
	printf("%s\n", x > 3 ? "big" : x > 1 ? "mid" : "small");
	x = 0;
	printf("%s\n", x > 3 ? "big" : x > 1 ? "mid" : "small");
	printf("%d\n", 1 ? 10 : 20);
	printf("%d\n", 0 ? 10 : 20);
	printf("%d\n", 1 + 1 == 2 ? 3 + 4 : 5);
	y = x ? 100 : 200;
	printf("%d\n", y);
	exit(0);
}
