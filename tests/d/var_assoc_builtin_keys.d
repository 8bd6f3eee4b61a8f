/*
 * Built-in variables as keys: a[execname, pid] names the same element for the same
 * process, a different pid does not.
 *
 * @args: -q
 */

BEGIN
{
	a[execname, pid] = 10;
	a[execname, pid] += 5;
	printf("%d\n", a[execname, pid]);
	printf("%d\n", a[execname, pid + 1]);
	printf("%d\n", a[probename, pid]);
	exit(0);
}
