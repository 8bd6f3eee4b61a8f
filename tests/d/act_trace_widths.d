/*
 * Without -q, trace() pads each value by the size of its type, as dtrace does:
 * " %3d" (1 byte), " %5d" (2), " %8d" (4), " %16lld" (8), and a string as two spaces and the
 * string left-aligned in 33 columns, all after the "CPU ID FUNCTION:NAME" probe line.
 * The output goes to stderr (-o) so that the CPU column can be matched by a pattern.
 *
 * @args: -o /dev/stderr
 */

BEGIN
{
	trace((char)3);
	trace((short)5);
	trace(1);
	trace(7LL);
	trace("ab");
	exit(0);
}
