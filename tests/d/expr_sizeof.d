/*
 * sizeof on the D integer types (LP64: long is 8 bytes) and on expressions, whose type follows
 * C: an int constant is an int, a long long one (LL suffix) is 8 bytes, a char cast is 1.
 *
 * @args: -q
 */

BEGIN
{
	printf("%d %d %d %d %d\n", sizeof(char), sizeof(short), sizeof(int), sizeof(long),
	    sizeof(long long));
	printf("%d %d %d %d\n", sizeof(int8_t), sizeof(int16_t), sizeof(int32_t), sizeof(int64_t));
	printf("%d %d %d %d\n", sizeof(uint8_t), sizeof(uint16_t), sizeof(uint32_t),
	    sizeof(uint64_t));
	printf("%d %d\n", sizeof(unsigned int), sizeof(unsigned long long));
	printf("%d %d %d\n", sizeof(1), sizeof(1LL), sizeof((char)1));
	printf("%d %d\n", sizeof (1 + 2), sizeof ((short)1 + (short)1));
	exit(0);
}
