/*
 * -x with an unknown option fails as dtrace(1)'s dfatal does: an error naming the option,
 * exit 1.
 *
 * @args: -q -x nosuchoption -s {script}
 * @exit: 1
 */

BEGIN
{
	exit(0);
}
