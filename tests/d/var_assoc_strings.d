/*
 * Associative arrays with string values; an unset element reads as "".
 *
 * @args: -q
 */

BEGIN
{
	name[1] = "one";
	name[2] = "two";
	name[1] = "uno";
	printf("%s %s [%s]\n", name[1], name[2], name[3]);
	printf("%d\n", name[2] == "two");
	exit(0);
}
