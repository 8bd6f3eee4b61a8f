/*
 * Without -q, exit() prints the probe line, and the aggregation at exit comes after a blank
 * line. Output goes to stderr (-o) so the CPU column can be matched.
 *
 * @args: -o /dev/stderr
 */

BEGIN
{
	@a = count();
	exit(0);
}
