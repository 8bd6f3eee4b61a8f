/*
 * -h prints the usage and exits 0 without running anything.
 *
 * @args: -h -s {script}
 */

BEGIN
{
	printf("never\n");
	exit(0);
}
