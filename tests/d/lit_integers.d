/*
 * Integer literals: decimal, hexadecimal (0x and 0X, either case of digits), octal (leading
 * 0), with u/l/ll suffixes in any case, up to 64 bits.
 *
 * @args: -q
 */

BEGIN
{
	printf("%d %d %d\n", 0, 123, 2147483647);
	printf("%d %d %d %d\n", 0x1F, 0X10, 0xabcdef, 0xABCDEF);
	printf("%d %d %d\n", 017, 0777, 00);
	printf("%d %d %d %d\n", 10u, 10L, 10ULL, 10ll);
	printf("%d\n", 1000000000000);
	printf("%u\n", 0xffffffff);
	printf("%u\n", 0xffffffffffffffff);
	printf("%d\n", 9223372036854775807);
	exit(0);
}
