/*
 * Several #pragma D option lines apply together: quiet and defaultargs.
 *
 * @args: -s {script}
 */

#pragma D option quiet
#pragma D option defaultargs

BEGIN
{
	printf("%d\n", $3 + 1);
	exit(0);
}
