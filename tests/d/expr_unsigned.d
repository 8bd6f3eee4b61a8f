/*
 * Unsigned operands make division, modulo, right shift and comparison unsigned, following C's
 * usual arithmetic conversions (a negative int compared with an unsigned int becomes large).
 *
 * @args: -q
 */

BEGIN
{
	printf("%u\n", (uint64_t)-1 / 2);
	printf("%d\n", (int64_t)-1 / 2);
	printf("%d\n", -16 >> 2);
	printf("%d\n", -1 >> 1);
	printf("%u\n", (uint64_t)-1 >> 60);
	printf("%u\n", (uint32_t)-1 >> 28);
	printf("%u\n", (uint32_t)-1 % 7);
	printf("%d\n", -7 % 3);
	printf("%d %d\n", (uint32_t)1 > -1, (int64_t)1 > -1);
	printf("%d %d\n", (uint64_t)1 > -1, 1 > -1);
	printf("%d\n", (uint64_t)0 - 1 > 0);
	printf("%d\n", (int64_t)0 - 1 > 0);
	exit(0);
}
