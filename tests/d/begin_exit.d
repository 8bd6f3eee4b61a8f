/*
 * BEGIN fires first; printf output goes to stdout; exit(0) ends the run with status 0.
 *
 * @args: -q
 */

BEGIN
{
	printf("hello\n");
	exit(0);
}
