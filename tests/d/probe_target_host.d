/*
 * The target field: host:dtrace:::BEGIN names the host's BEGIN probe, and a glob
 * in the target field (h*, *) matches "host" as well. vmname is "host" there.
 *
 * @args: -q
 */

host:dtrace:::BEGIN
{
	printf("host %s\n", vmname);
}

h*:dtrace:::BEGIN
{
	printf("h* %s\n", vmname);
}

*:dtrace:::BEGIN
{
	printf("* %s\n", vmname);
	exit(0);
}
