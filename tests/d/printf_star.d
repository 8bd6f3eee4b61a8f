/*
 * '*' takes the width or precision from an argument.
 *
 */

#pragma D option quiet

BEGIN
{
	printf("[%*d][%-*d][%.*s]\n", 6, 42, 4, 7, 2, "abcdef");
	exit(0);
}
