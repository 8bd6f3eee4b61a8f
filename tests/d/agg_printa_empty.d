/*
 * printa() of an aggregation with no data: without a format, dtrace still prints the blank
 * separator line; with a format it prints nothing.
 *
 */

#pragma D option quiet

BEGIN
/0/
{
	@a["x"] = count();
}

BEGIN
{
	printa(@a);
	printa("%s %@d\n", @a);
	printf("end\n");
	exit(0);
}
