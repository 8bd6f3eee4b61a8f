/*
 * strchr(s, c) and strrchr(s, c): s from the first (last) c on, as in DTrace; "" when c is not
 * in s (vtrace has no NULL string).
 *
 * @args: -q
 */

BEGIN
{
	s = "fooeyfooeyfoo";
	printf("%s %s\n", strchr(s, 'y'), strrchr(s, 'y'));
	printf("%s %s\n", strchr(s, 'f'), strrchr(s, 'f'));
	printf("[%s] [%s]\n", strchr(s, 'z'), strrchr(s, 'z'));
	printf("%s\n", strrchr(strchr(s, 'y'), 'e'));
	exit(0);
}
