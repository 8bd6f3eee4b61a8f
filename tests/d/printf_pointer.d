/*
 * %p prints an address in hexadecimal (dtrace's %p is "x" on the value, without 0x).
 *
 */

#pragma D option quiet

BEGIN
{
	printf("%p|%12p|\n", 0x1234, 0xbeef);
	exit(0);
}
