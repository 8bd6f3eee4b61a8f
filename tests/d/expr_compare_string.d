/*
 * Strings compare by content (strcmp order) with == != < <= > >=.
 *
 * @args: -q
 */

BEGIN
{
	s = "abc";
	t = "abd";
	printf("%d %d\n", s == "abc", s == t);
	printf("%d %d\n", s != t, s != "abc");
	printf("%d %d %d\n", s < t, t < s, s < s);
	printf("%d %d\n", s <= "abc", t <= s);
	printf("%d %d\n", "b" > "abc", "ab" > "abc");
	printf("%d %d\n", "" < "a", "abc" >= "ab");
	printf("%d\n", s == "ab");
	exit(0);
}
