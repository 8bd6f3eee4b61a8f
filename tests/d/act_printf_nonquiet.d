/*
 * Without -q, printf output follows the probe line on the same line, and the record ends with
 * a newline after it (chewrec). Output goes to stderr (-o) so the CPU column can be matched.
 *
 * @args: -o /dev/stderr
 */

BEGIN
{
	printf("x=%d", 5);
	exit(0);
}
