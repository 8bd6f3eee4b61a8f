/*
 * substr() outside the string is empty, as in DTrace (never a fault): an index past the end, a
 * negative index before the start (a window that starts before the string keeps its overlap),
 * a negative length longer than what is left.
 *
 * @args: -q -s {script}
 */

BEGIN
{
	printf("[%s] [%s] [%s] [%s] [%s] [%s]\n", substr("hello", 10), substr("abcdefgh", 12345678),
	    substr("abcde", -7, 3), substr("abcde", -10, 3), substr("abcde", -10),
	    substr("hello", 1, -10));
	exit(0);
}
