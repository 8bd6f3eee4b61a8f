/*
 * Integer keys print in a width by their type's size, as dtrace's dt_print_datum does:
 * %3d for char, %5d for short, %8d for int, %16lld for long long.
 *
 */

#pragma D option quiet

BEGIN
{
	@c[(char)1] = sum(1);
	@s[(short)2] = sum(2);
	@i[3] = sum(3);
	@l[(long long)4] = sum(4);
	exit(0);
}
