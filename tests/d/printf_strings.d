/*
 * %s with width, '-' and precision.
 *
 */

#pragma D option quiet

BEGIN
{
	printf("[%s][%10s][%-10s][%.3s][%8.2s]\n", "hello", "hello", "hello", "hello", "hello");
	exit(0);
}
