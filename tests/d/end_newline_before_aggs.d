/*
 * At the end of the run the newline comes first, then the aggregations not printed yet.
 *
 * @args: -q
 */

BEGIN
{
	@ = count();
	printf("before\n");
	exit(0);
}
