/*
 * One clause with several probe descriptions, separated by commas, runs for each of them.
 *
 * @args: -q
 */

dtrace:::BEGIN, dtrace:::END
{
	printf("%s\n", probename);
}

BEGIN
{
	exit(0);
}
