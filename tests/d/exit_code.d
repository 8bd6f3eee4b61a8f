/*
 * The argument of exit() becomes vtrace's exit status, as with dtrace(1).
 *
 * @args: -q
 * @exit: 3
 */

BEGIN
{
	printf("exiting with 3\n");
	exit(3);
}
