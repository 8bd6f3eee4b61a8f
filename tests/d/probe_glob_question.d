/*
 * "?" matches exactly one character: d?race and BEGI? match; E?D matches END but not ERROR.
 *
 * @args: -q
 */

d?race:::BEGI?
{
	printf("%s\n", probename);
	exit(0);
}

dtrace:::E?D
{
	printf("%s\n", probename);
}
