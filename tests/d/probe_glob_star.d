/*
 * "*" in a field matches any string, including the empty one: d*, *:*:*:B* and E*
 * select BEGIN, then END.
 *
 * @args: -q
 */

d*:*:*:B*
{
	printf("%s\n", probename);
	exit(0);
}

dtrace:::E*
{
	printf("%s\n", probename);
}
