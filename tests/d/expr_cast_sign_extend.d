/*
 * Widening: a narrow signed value sign-extends and a narrow unsigned one zero-extends when
 * cast back to a wider type or used in arithmetic; stores to a typed variable narrow as a cast.
 *
 * @args: -q
 */

char c;
unsigned char uc;
short s;
uint32_t u;

BEGIN
{
	printf("%d %d\n", (int)(char)200, (int)(unsigned char)200);
	printf("%d %d\n", (int)(int8_t)-56, (int)(uint8_t)-56);
	printf("%d\n", (long long)(int)0xffffffff);
	printf("%d\n", (long long)(unsigned int)0xffffffff);
	c = 200;
	uc = 200;
	s = 70000;
	u = -1;
	printf("%d %d %d %u\n", c, uc, s, u);
	printf("%d %d\n", c + 1, uc + 1);
	printf("%d\n", (uint8_t)200 + (uint8_t)100);
	printf("%d\n", (int8_t)-1 == (uint8_t)255);
	exit(0);
}
