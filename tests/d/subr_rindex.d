/*
 * rindex(s, sub) and rindex(s, sub, start): the last position of sub (at or before start), or -1.
 *
 */

#pragma D option quiet

BEGIN
{
	printf("%d %d %d %d\n", rindex("hello world", "o"), rindex("hello world", "o", 5), rindex("abc", "z"), rindex("abcabc", "abc"));
	exit(0);
}
