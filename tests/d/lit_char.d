/*
 * Character constants are integers: plain characters and the C escapes (\n \t \0 \\ \'
 * \" \a \b \f \r \v, octal \101 and hexadecimal \x41).
 *
 * @args: -q
 */

BEGIN
{
	printf("%d %d %d\n", 'A', 'z', ' ');
	printf("%d %d %d\n", '\n', '\t', '\0');
	printf("%d %d %d\n", '\\', '\'', '\"');
	printf("%d %d %d %d %d\n", '\a', '\b', '\f', '\r', '\v');
	printf("%d %d\n", '\101', '\x41');
	printf("%c%c%c\n", 'o', 'k', '!');
	printf("%d\n", 'a' + 1);
	exit(0);
}
