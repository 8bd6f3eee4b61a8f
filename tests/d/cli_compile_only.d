/*
 * -e compiles the program and matches its probes, then exits 0 without tracing: no output.
 *
 * @args: -e -s {script}
 */

BEGIN
{
	printf("never\n");
	exit(3);
}
