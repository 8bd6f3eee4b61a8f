/*
 * inet_ntoa6() takes an in6_addr_t *: any other pointer would be read as an IPv6 address.
 *
 * @exit: 1
 */

BEGIN
{
	p = (int *)alloca(16);
	trace(inet_ntoa6(p));
}
