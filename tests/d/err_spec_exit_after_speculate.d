/*
 * exit() may not follow speculate() in the same clause (DTrace D_EXIT_SPEC).
 *
 * @exit: 1
 */

BEGIN
{
	speculate(speculation());
	exit(0);
}
