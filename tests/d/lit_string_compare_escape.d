/*
 * An escape in a string literal yields the same character as the plain one: "\x41" == "A",
 * "a\tb" has length 3 (strlen), and "\0" ends the string.
 *
 * @args: -q
 */

BEGIN
{
	printf("%d %d\n", "\x41" == "A", "\101BC" == "ABC");
	printf("%d\n", strlen("a\tb"));
	printf("[%s] %d\n", "ab\0cd", strlen("ab\0cd"));
	exit(0);
}
