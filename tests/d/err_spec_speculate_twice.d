/*
 * One clause speculates at most once (DTrace D_SPEC_SPEC).
 *
 * @exit: 1
 */

BEGIN
{
	speculate(1);
	speculate(2);
}
