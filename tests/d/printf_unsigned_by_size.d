/*
 * An unsigned conversion of a negative value shows the bits of the argument's own size
 * (dt_printf.c pfprint_uint): an int -1 is ffffffff, a long long -1 is 16 f's.
 *
 */

#pragma D option quiet

BEGIN
{
	printf("%x %x %u\n", -1, -1LL, -1);
	exit(0);
}
