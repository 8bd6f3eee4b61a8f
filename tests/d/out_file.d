/*
 * -o FILE sends the trace output to FILE: stdout stays empty.
 *
 * @args: -o /dev/null
 */

#pragma D option quiet

BEGIN
{
	printf("to the file\n");
	exit(0);
}
