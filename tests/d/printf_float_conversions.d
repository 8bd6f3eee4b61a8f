/*
 * %e %f %g take integer arguments in vtrace (it has no floating-point type) and format them
 * as C does, with precision and width.
 *
 */

#pragma D option quiet

BEGIN
{
	printf("%e|%f|%g|%.2f|%8.1f|%G\n", 1, 2, 3, 4, 5, 100000000);
	exit(0);
}
