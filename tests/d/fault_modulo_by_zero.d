/*
 * Modulo by zero is a divide-by-zero fault too (DTRACEFLT_DIVZERO).
 *
 */

#pragma D option quiet

int y;

BEGIN
{
	x = 7 % y;
}

BEGIN
{
	printf("next\n");
	exit(0);
}
