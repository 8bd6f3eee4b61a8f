/*
 * An unknown flag is a usage error: exit 2, with the usage text on stderr.
 *
 * @args: -Q -s {script}
 * @exit: 2
 */

BEGIN
{
	exit(0);
}
