/*
 * Without -q: the "matched" notice on stderr, then the CPU/ID/FUNCTION:NAME header and one
 * line per probe firing ("%3d %6d %32s " then the data, then a newline). The trace output is
 * sent to stderr with -o so the CPU column (which varies) can be matched by a pattern.
 *
 * @args: -o /dev/stderr -s {script}
 */

BEGIN
{
	printf("hello");
	exit(0);
}
