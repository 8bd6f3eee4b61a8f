/*
 * printa() with a format and two keys: widths and flags apply to keys and value.
 *
 */

#pragma D option quiet

BEGIN
{
	@a["ab", (long long)7] = count();
	@a["c", (long long)12] = count();
	@a["c", (long long)12] = count();
	printa("[%-4s|%3d|%@5u]\n", @a);
	exit(0);
}
