/*
 * An aggregation buffer that cannot hold one entry of the program's aggregations is refused
 * when tracing would start, as dtrace refuses it: exit 1, nothing traced.
 *
 * @args: -q -x aggsize=8 -s {script}
 * @exit: 1
 */

BEGIN
{
	@counts["a"] = count();
	printf("never\n");
	exit(0);
}
