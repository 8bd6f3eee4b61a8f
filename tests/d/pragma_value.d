/*
 * #pragma D option name=value: strsize=4 bounds strings (the size includes the NUL), so a
 * stored string keeps its first 3 characters.
 *
 * @args: -q
 */

#pragma D option strsize=4

BEGIN
{
	s = "abcdefgh";
	printf("%s\n", s);
	exit(0);
}
