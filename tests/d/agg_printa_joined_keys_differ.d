/*
 * printa() joins aggregations only when their keys are alike (dtrace's D_PRINTA_AGGKEY): a
 * compile error at the printa().
 *
 * @exit: 1
 */

BEGIN
{
	@foo[123] = sum(123);
	@bar = sum(456);
	printa("%d %@d %@d\n", @foo, @bar);
}
