/*
 * l and ll length modifiers with 64-bit values.
 *
 */

#pragma D option quiet

BEGIN
{
	printf("%ld %lld %lu %llx %lld\n", (long)-1, 1LL << 40, (unsigned long)5,
	    (long long)0xdeadbeefcafe, -9223372036854775807LL - 1);
	exit(0);
}
