/*
 * String literals with escapes: \n \t \\ \" \' , octal and hexadecimal escapes.
 *
 * @args: -q
 */

BEGIN
{
	printf("%s", "a\tb\n");
	printf("%s\n", "quote: \"q\"");
	printf("%s\n", "backslash: \\");
	printf("%s\n", "apostrophe: \'");
	printf("%s\n", "octal: \101\102\103");
	printf("%s\n", "hex: \x41\x62");
	printf("[%s]\n", "");
	printf("two\nlines\n");
	exit(0);
}
