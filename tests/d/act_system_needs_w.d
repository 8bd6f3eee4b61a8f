/*
 * system() is a destructive action: without -w vtrace refuses to run the script and exits
 * with status 1.
 *
 * @exit: 1
 */

BEGIN
{
	system("echo hi");
	exit(0);
}
