/*
 * inet_ntoa(), inet_ntoa6() and inet_ntop() format addresses held in D memory, with the types
 * D programs find defined (ipaddr_t, struct in_addr, struct in6_addr, AF_INET, AF_INET6);
 * inet_ntoa6 prints an IPv4-mapped address as IPv4, inet_ntop as RFC 5952 text. An address
 * outside D memory faults.
 */

#pragma D option quiet

BEGIN
{
	a = (struct in_addr *)alloca(sizeof(struct in_addr));
	a->s_addr = htonl(0x0a000102);
	six = (struct in6_addr *)alloca(sizeof(struct in6_addr));
	six->in6_u.u6_addr8[0] = 0x20;
	six->in6_u.u6_addr8[1] = 0x01;
	six->in6_u.u6_addr8[2] = 0x0d;
	six->in6_u.u6_addr8[3] = 0xb8;
	six->in6_u.u6_addr8[15] = 0x09;
	mapped = (in6_addr_t *)alloca(sizeof(in6_addr_t));
	mapped->in6_u.u6_addr16[5] = 0xffff;
	mapped->in6_u.u6_addr32[3] = htonl(0xc0a80001);
	printf("%s %s\n", inet_ntoa((ipaddr_t *)a), inet_ntop(AF_INET, a));
	printf("%s %s\n", inet_ntoa6(six), inet_ntop(AF_INET6, six));
	printf("%s %s %d\n", inet_ntoa6(mapped), inet_ntop(AF_INET6, mapped), sizeof(struct in6_addr));
}

BEGIN
{
	trace(inet_ntoa((ipaddr_t *)8));
}

ERROR
{
	printf("fault %d\n", arg4);
	exit(0);
}
