/*
 * %c prints one character from an integer.
 *
 */

#pragma D option quiet

BEGIN
{
	printf("%c%c%c|%3c|%-3c|\n", 'a', 98, 0x63, 'x', 'y');
	exit(0);
}
