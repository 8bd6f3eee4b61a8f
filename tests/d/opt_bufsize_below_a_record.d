/*
 * A principal buffer that cannot hold one record, or an aggregation buffer that cannot hold one
 * entry, is refused when tracing would start, as dtrace refuses it ("could not enable tracing:
 * Enabling exceeds size of buffer"): exit 1, nothing traced. -b is -x bufsize.
 *
 * @args: -q -b 59 -s {script}
 * @exit: 1
 */

BEGIN
{
	printf("never\n");
	exit(0);
}
