/*
 * Constants divided by zero do not compile (DTrace D_DIV_ZERO): the expression is folded at
 * compile time, not left to fault when the probe fires.
 *
 * @exit: 1
 */

BEGIN
{
	x = 123 % (7 - 7);
	exit(0);
}
