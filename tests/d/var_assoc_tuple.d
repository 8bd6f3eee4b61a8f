/*
 * Associative arrays keyed by tuples of integers and strings; an element never assigned
 * reads as 0; keys compare by value.
 *
 * @args: -q
 */

BEGIN
{
	a[1, "x"] = 5;
	a[2, "y"] = 6;
	a[1, "y"] = 7;
	k = "x";
	printf("%d %d %d\n", a[1, "x"], a[2, "y"], a[1, "y"]);
	printf("%d %d\n", a[2, "x"], a[3, "z"]);
	printf("%d\n", a[0 + 1, k]);
	b["one"] = 1;
	b["two"] = 2;
	printf("%d %d %d\n", b["one"], b["two"], b["three"]);
	c[1, 2, 3] = 123;
	printf("%d %d\n", c[1, 2, 3], c[3, 2, 1]);
	exit(0);
}
