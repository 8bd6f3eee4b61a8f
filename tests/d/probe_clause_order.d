/*
 * Several clauses for one probe run in program order, whatever description names the probe,
 * and each sees the global state the previous ones left.
 *
 * @args: -q
 */

BEGIN
{
	x = 1;
	printf("first %d\n", x);
}

dtrace:::BEGIN
{
	x = x * 10;
	printf("second %d\n", x);
}

END
{
	printf("end %d\n", x);
}

:::BEGIN
{
	x = x + 2;
	printf("third %d\n", x);
	exit(0);
}
