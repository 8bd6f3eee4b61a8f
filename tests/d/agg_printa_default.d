/*
 * printa(@a) prints a blank line and the rows; an aggregation printed by printa() is not
 * printed again at exit.
 *
 */

#pragma D option quiet

BEGIN
{
	@a["x"] = count();
	printa(@a);
	printf("after\n");
	exit(0);
}
