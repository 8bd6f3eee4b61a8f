/*
 * Without -q, trace() pads each value by the size of its type, as Oracle's dtrace does:
 * " %3d" (1 byte), " %5d" (2), " %10d" (4), " %19lld" (8, signed; " %20llu" unsigned), and a
 * string as two spaces and the string left-aligned in 33 columns, all after the
 * "CPU ID FUNCTION:NAME" probe line. Values print signed or unsigned as their type is.
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
	trace((char)-1);
	trace((unsigned short)-1);
	trace(7ULL);
	trace("ab");
	exit(0);
}
