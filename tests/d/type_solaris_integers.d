/*
 * The Solaris names D has always had for C's integers: uchar_t, ushort_t, uint_t, ulong_t,
 * longlong_t, u_longlong_t, offset_t, u_offset_t, with their sizes and signedness.
 *
 * @args: -q
 */

BEGIN
{
	printf("%d %d %d %d %d %d %d %d\n", sizeof(uchar_t), sizeof(ushort_t), sizeof(uint_t),
	    sizeof(ulong_t), sizeof(longlong_t), sizeof(u_longlong_t), sizeof(offset_t),
	    sizeof(u_offset_t));
	printf("%u %u %u %d\n", (uchar_t)257, (ushort_t)-1, (uint_t)-1, (longlong_t)-1);
	exit(0);
}
