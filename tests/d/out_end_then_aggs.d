/*
 * At the end of the run: END's output first, then a newline and the aggregations not yet
 * printed.
 *
 */

#pragma D option quiet

BEGIN
{
	@a["k"] = sum(5);
	exit(0);
}

END
{
	printf("end\n");
}
