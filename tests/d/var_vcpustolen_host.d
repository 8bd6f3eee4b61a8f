/*
 * vcpustolen: host time taken from the current vCPU since the guest's previous probe on it. A
 * host probe has no vCPU: it is 0 there, an unsigned 64-bit integer like timestamp.
 *
 * @args: -q
 */

BEGIN
{
	printf("%d %d\n", vcpustolen, vcpustolen + 7);
	@s = sum(vcpustolen);
	printf("%d\n", vcpustolen - 1 > 0);
	exit(0);
}

END
{
	printa("%@d\n", @s);
}
