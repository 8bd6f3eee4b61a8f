/*
 * exit(n) makes n vtrace's exit status; END still runs.
 *
 * @args: -q
 * @exit: 42
 */

BEGIN
{
	exit(42);
}

END
{
	printf("end ran\n");
}
