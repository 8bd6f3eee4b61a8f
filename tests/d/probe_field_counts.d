/*
 * Descriptions of one to five fields: missing leading fields match anything, the fifth
 * (leading) field is the target, "host" for the built-in providers. All five clauses enable
 * BEGIN and run in program order.
 *
 * @args: -q
 */

BEGIN
{
	printf("1 field\n");
}

:BEGIN
{
	printf("2 fields\n");
}

::BEGIN
{
	printf("3 fields\n");
}

dtrace:::BEGIN
{
	printf("4 fields\n");
}

host:dtrace:::BEGIN
{
	printf("5 fields\n");
	exit(0);
}
