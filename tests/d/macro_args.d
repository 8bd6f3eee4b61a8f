/*
 * Macro arguments: $1..$9 are the integer arguments after the script, $$1..$$9 the same
 * arguments as strings.
 *
 * @args: -q -s {script} 42 hello 0x10
 */

BEGIN
{
	printf("%d %d\n", $1, $1 + 1);
	printf("%s %s\n", $$1, $$2);
	printf("%d\n", $3);
	printf("%d\n", $$1 == "42");
	exit(0);
}
