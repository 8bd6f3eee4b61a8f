/*
 * A global scalar is created by its first assignment, keeps its value across probes and
 * takes the type of what is assigned (int or string).
 *
 * @args: -q
 */

BEGIN
{
	x = 41;
	s = "hello";
}

BEGIN
{
	x++;
	exit(0);
}

END
{
	printf("%d %s\n", x, s);
}
