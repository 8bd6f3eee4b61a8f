/*
 * -x quiet is the same as -q.
 *
 * @args: -x quiet -s {script}
 */

BEGIN
{
	printf("quiet via -x\n");
	exit(0);
}
