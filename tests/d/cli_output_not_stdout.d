/*
 * With -o naming another file, nothing is written to stdout.
 *
 * @args: -q -o /dev/null -s {script}
 */

BEGIN
{
	printf("to /dev/null\n");
	exit(0);
}
