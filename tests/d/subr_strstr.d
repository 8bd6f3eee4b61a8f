/*
 * strstr(s, sub) returns s from the first occurrence of sub.
 *
 */

#pragma D option quiet

BEGIN
{
	printf("[%s][%s]\n", strstr("hello world", "o w"), strstr("aaa", "a"));
	exit(0);
}
