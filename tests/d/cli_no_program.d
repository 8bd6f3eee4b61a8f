/*
 * No program (no -n, -s, -P, ... and no -l): usage error, exit 2. The script name here is
 * only a macro argument.
 *
 * @args: -q {script}
 * @exit: 2
 */

BEGIN
{
	exit(0);
}
