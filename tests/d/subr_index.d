/*
 * index(s, sub) and index(s, sub, start): the first position of sub, or -1.
 *
 */

#pragma D option quiet

BEGIN
{
	printf("%d %d %d %d %d\n", index("hello world", "o"), index("hello world", "o", 5), index("abc", "z"), index("abcabc", "bc", 2), index("abc", "c", 3));
	exit(0);
}
