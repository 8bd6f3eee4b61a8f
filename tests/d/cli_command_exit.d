/*
 * -c runs a command; when it exits, tracing stops (END runs) and vtrace exits 0.
 *
 * @args: -q -c true -o /dev/stderr -s {script}
 */

END
{
	printf("done\n");
}
