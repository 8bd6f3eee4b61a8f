/*
 * substr(s, i) returns s from index i to its end; a negative i counts from the end.
 *
 */

#pragma D option quiet

BEGIN
{
	printf("[%s][%s][%s][%s]\n", substr("hello world", 6), substr("hello", 0), substr("hello", -3), substr("hello", 5));
	exit(0);
}
