/*
 * Probe built-ins in dtrace:::BEGIN and END: probeprov, probemod, probefunc, probename, id
 * (BEGIN is probe 1, END probe 2) and vmname ("host").
 *
 * @args: -q
 */

BEGIN
{
	printf("%s:%s:%s:%s %d %s\n", probeprov, probemod, probefunc, probename, id, vmname);
	exit(0);
}

END
{
	printf("%s:%s:%s:%s %d %s\n", probeprov, probemod, probefunc, probename, id, vmname);
}
