/*
 * dtrace(1) prints one newline when the run ends, after the last record and before the
 * aggregations not printed yet, even under quiet and even when nothing else was printed.
 *
 * @args: -q
 */

BEGIN
{
	printf("last line\n");
	exit(0);
}
