/*
 * $$0 is the script name as given to -s.
 *
 * @args: -q
 */

BEGIN
{
	printf("%s\n", $$0);
	exit(0);
}
