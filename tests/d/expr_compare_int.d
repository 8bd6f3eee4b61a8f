/*
 * Integer comparisons yield 0 or 1; relational binds tighter than equality and both are
 * left-associative (3 > 2 > 1 is (3 > 2) > 1, that is 0).
 *
 * @args: -q
 */

BEGIN
{
	printf("%d %d %d\n", 1 < 2, 2 < 1, 2 < 2);
	printf("%d %d %d\n", 1 <= 2, 2 <= 1, 2 <= 2);
	printf("%d %d %d\n", 1 > 2, 2 > 1, 2 > 2);
	printf("%d %d %d\n", 1 >= 2, 2 >= 1, 2 >= 2);
	printf("%d %d\n", 3 == 3, 3 == 4);
	printf("%d %d\n", 3 != 3, 3 != 4);
	printf("%d\n", 3 > 2 > 1);
	printf("%d\n", 1 == 1 == 1);
	printf("%d\n", 2 == 1 < 2);
	printf("%d %d\n", -1 < 0, -5 < -4);
	exit(0);
}
