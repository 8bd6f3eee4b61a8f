/*
 * -o sends the trace output to a file (opened for appending): here /dev/stdout.
 *
 * @args: -q -o /dev/stdout -s {script}
 */

BEGIN
{
	printf("to the output file\n");
	exit(0);
}
