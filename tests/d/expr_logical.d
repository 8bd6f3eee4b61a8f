/*
 * Logical operators: && || ^^ ! yield 0 or 1; && and || short-circuit; ^^ is logical
 * exclusive or, binding tighter than || and looser than &&.
 *
 * @args: -q
 */

BEGIN
{
	printf("%d %d %d %d\n", 1 && 1, 1 && 0, 0 && 1, 5 && -3);
	printf("%d %d %d %d\n", 0 || 0, 1 || 0, 0 || 7, 2 || 3);
	printf("%d %d %d %d\n", 1 ^^ 0, 1 ^^ 1, 0 ^^ 0, 5 ^^ 0);
	printf("%d %d %d\n", !0, !1, !42);
	printf("%d\n", 0 || 1 ^^ 1 && 0);
	printf("%d\n", 0 && 1 ^^ 1);
	printf("%d\n", 1 ^^ 1 || 1);
	printf("%d\n", !0 + 1);
	x = 0;
	y = 1 || (x = 5);
	y = 0 && (x = 6);
	printf("x=%d\n", x);
	y = 1 && (x = 7);
	printf("x=%d\n", x);
	exit(0);
}
