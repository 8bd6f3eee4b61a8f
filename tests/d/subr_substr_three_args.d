/*
 * substr(s, i, n) returns at most n bytes from index i; n past the end is cut at the end.
 *
 */

#pragma D option quiet

BEGIN
{
	printf("[%s][%s][%s][%s]\n", substr("hello", 1, 3), substr("hello", -3, 2), substr("hello", 2, 100), substr("hello", 0, 0));
	exit(0);
}
