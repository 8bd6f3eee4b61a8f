/*
 * #pragma D option quiet has the effect of -q: no header, no probe lines, only what the
 * script prints.
 *
 * @args: -s {script}
 */

#pragma D option quiet

BEGIN
{
	printf("only this\n");
	exit(0);
}
