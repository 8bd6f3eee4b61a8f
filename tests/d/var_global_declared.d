/*
 * Declared globals (int x; string s; ...) read as 0 and "" until assigned.
 *
 * @args: -q
 */

int x;
string s;
uint64_t big;
char c;

BEGIN
{
	printf("[%d] [%s] [%d] [%d]\n", x, s, big, c);
	x = 7;
	s = "set";
	big = 1;
	c = 'c';
	printf("[%d] [%s] [%d] [%c]\n", x, s, big, c);
	exit(0);
}
