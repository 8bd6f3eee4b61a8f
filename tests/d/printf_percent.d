/*
 * %% prints a single '%' and consumes no argument.
 *
 */

#pragma D option quiet

BEGIN
{
	printf("100%% of %d%%\n", 5);
	exit(0);
}
