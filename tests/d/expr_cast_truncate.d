/*
 * Casts to the D integer types truncate to the type's width and then sign-extend (signed
 * types) or zero-extend (unsigned types).
 *
 * @args: -q
 */

BEGIN
{
	printf("%d %d %d\n", (int8_t)255, (int8_t)127, (int8_t)128);
	printf("%d %d %d\n", (uint8_t)256, (uint8_t)-1, (uint8_t)0x1ff);
	printf("%d %d\n", (int16_t)65535, (int16_t)0x18000);
	printf("%d %d\n", (uint16_t)-1, (uint16_t)65536);
	printf("%d %d\n", (int32_t)0x80000000, (int32_t)0x100000005);
	printf("%u\n", (uint32_t)-1);
	printf("%d\n", (int64_t)-1);
	printf("%u\n", (uint64_t)-1);
	printf("%d %c\n", (char)321, (char)321);
	printf("%d %d\n", (short)-32769, (short)32768);
	printf("%d %d\n", (int)4294967297, (int)-4294967297);
	printf("%d %d\n", (long)-1, (long long)0x7fffffffffffffff);
	printf("%u %u\n", (unsigned char)-56, (unsigned short)-2);
	exit(0);
}
