/*
 * lltostr() in base 10 (with sign), and with a base: 16 with 0x, 8 with a leading 0, 2 (dtrace's DIF_SUBR_LLTOSTR).
 *
 */

#pragma D option quiet

BEGIN
{
	printf("%s %s %s %s %s %s %s\n", lltostr(-123), lltostr(0), lltostr(255, 16), lltostr(8, 8), lltostr(5, 2), lltostr(0, 16), lltostr(35, 36));
	exit(0);
}
