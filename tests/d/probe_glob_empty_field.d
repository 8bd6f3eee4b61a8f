/*
 * The module and function of BEGIN are empty: "*" matches them, "?*" (at least one
 * character) does not, so with -Z the second clause is simply not enabled.
 *
 * @args: -qZ
 */

dtrace:*:*:BEGIN
{
	printf("star matched\n");
}

dtrace:?*::BEGIN
{
	printf("never\n");
}

BEGIN
{
	exit(0);
}
