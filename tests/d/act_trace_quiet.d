/*
 * trace() in quiet mode prints each value bare, with no padding, whatever its size:
 * char, short, int, long long and strings (dt_consume.c: "%d" / "%lld" / "%s").
 *
 */

#pragma D option quiet

BEGIN
{
	trace(1);
	trace("|");
	trace((char)3);
	trace("|");
	trace((short)5);
	trace("|");
	trace(7LL);
	trace("|");
	trace(-2);
	trace("|");
	trace(-3LL);
	trace("|");
	trace("str");
	trace("\n");
	exit(0);
}
