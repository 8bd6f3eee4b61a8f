/*
 * printa() joins aggregations only when their keys have alike types (dtrace's
 * D_PRINTA_AGGPROTO).
 *
 * @exit: 1
 */

BEGIN
{
	@foo[123] = sum(123);
	@bar["fooey"] = sum(456);
	printa("%d %@d %@d\n", @foo, @bar);
}
