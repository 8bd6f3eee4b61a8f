/*
 * Precision on integer conversions gives a minimum number of digits.
 *
 */

#pragma D option quiet

BEGIN
{
	printf("[%.4d][%8.3x][%-6.3d]\n", 7, 10, 5);
	exit(0);
}
