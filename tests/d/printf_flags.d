/*
 * printf flags: width, '-', '0', '+', ' ' and '#'.
 *
 */

#pragma D option quiet

BEGIN
{
	printf("[%5d][%-5d][%05d][%+d][% d][%#x][%#o][%-+6d]\n", 42, 42, 42, 42, 42, 255, 8, 7);
	exit(0);
}
