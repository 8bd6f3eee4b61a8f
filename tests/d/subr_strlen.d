/*
 * strlen() counts the bytes of a string; an empty string has length 0.
 *
 */

#pragma D option quiet

BEGIN
{
	printf("%d %d %d\n", strlen("hello"), strlen(""), strlen(strjoin("ab", "cd")));
	exit(0);
}
