/*
 * A syntax error is reported on stderr as file:line:col, and vtrace exits with status 1
 * without running anything.
 *
 * @exit: 1
 */

BEGIN
{
	trace(1 2);
}
