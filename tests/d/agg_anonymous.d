/*
 * The anonymous aggregation @ works like a named one.
 *
 */

#pragma D option quiet

BEGIN
{
	@ = count();
	@ = count();
	exit(0);
}
