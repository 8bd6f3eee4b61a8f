/*
 * A run that prints nothing still ends with dtrace(1)'s newline.
 *
 * @args: -q
 */

BEGIN
{
	x = 1;
	exit(0);
}
