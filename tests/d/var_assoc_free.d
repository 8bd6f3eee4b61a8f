/*
 * Assigning 0 to an associative-array element frees it: it reads as 0 again, can be
 * assigned again, and the other elements are untouched.
 *
 * @args: -q
 */

BEGIN
{
	a[1] = 10;
	a[2] = 20;
	a[1] = 0;
	printf("%d %d\n", a[1], a[2]);
	a[1] = 30;
	printf("%d\n", a[1]);
	a[1] = 0;
	a[2] = 0;
	printf("%d %d\n", a[1], a[2]);
	exit(0);
}
