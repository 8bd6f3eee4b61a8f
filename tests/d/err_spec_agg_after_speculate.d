/*
 * An aggregation may not follow speculate() in the same clause (DTrace D_AGG_SPEC).
 *
 * @exit: 1
 */

BEGIN
{
	speculate(speculation());
	@a = count();
}
