/*
 * With -c, $target is the pid of the command (greater than 0), and vtrace exits when the
 * command has exited, running END.
 *
 * @args: -q -c true -s {script}
 */

BEGIN
{
	printf("%s\n", $target > 0 ? "target set" : "no target");
}

END
{
	printf("end\n");
}
