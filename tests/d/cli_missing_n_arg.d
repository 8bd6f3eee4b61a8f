/*
 * -n without its argument is a usage error: exit 2.
 *
 * @args: -s {script} -n
 * @exit: 2
 */

BEGIN
{
	exit(0);
}
