/*
 * With nspec=1, a second speculation() while the first is active returns 0; speculating to 0
 * drops the data, and the count of failed speculations is reported on stderr at exit.
 *
 */

#pragma D option quiet
#pragma D option nspec=1

BEGIN
{
	a = speculation();
	b = speculation();
	printf("%d %d\n", a, b);
}

BEGIN
{
	speculate(b);
	printf("dropped\n");
}

BEGIN
{
	exit(0);
}
