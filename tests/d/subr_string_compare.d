/*
 * Strings compare by content with the relational operators.
 *
 */

#pragma D option quiet

BEGIN
{
	printf("%d %d %d %d\n", "abc" == "abc", "abc" < "abd", "b" > "abc", strjoin("a", "b") != "ab");
	exit(0);
}
