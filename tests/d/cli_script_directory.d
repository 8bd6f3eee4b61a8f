/*
 * -s of a directory is an error, as for any script that cannot be read (dtrace: "failed to
 * open"), exit status 2; it used to run as an empty script that never exited.
 *
 * @args: -s . {script}
 * @exit: 2
 * @timeout: 10
 */

BEGIN
{
	exit(0);
}
