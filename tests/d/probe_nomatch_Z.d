/*
 * With -Z a description that matches no probe is allowed; the other clauses run.
 *
 * @args: -q -Z
 */

nosuchprovider:::entry
{
	printf("never\n");
}

BEGIN
{
	printf("ran\n");
	exit(0);
}
