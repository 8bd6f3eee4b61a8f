/*
 * substr(s, i, len) with a negative len counts back from the end of the string, as DTrace does:
 * substr("hello", 1, -1) is "ell"; a length that reaches before i gives "".
 *
 * @args: -q
 */

BEGIN
{
	printf("[%s] [%s] [%s]\n", substr("hello", 1, -1), substr("hello", 0, -2), substr("hello", 1, -10));
	exit(0);
}
