/*
 * Variables whose assignments have not run yet read as 0 (integers) and "" (strings):
 * globals, associative-array elements and thread-locals.
 *
 * @args: -q
 */

BEGIN
/0/
{
	x = 1;
	s = "never";
	a["k"] = 2;
	self->t = 3;
	self->str = "never";
}

BEGIN
{
	printf("%d [%s] %d %d [%s]\n", x, s, a["k"], self->t, self->str);
	printf("%d %d\n", x == 0, s == "");
	exit(0);
}
