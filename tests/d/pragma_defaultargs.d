/*
 * #pragma D option defaultargs: macro arguments not given read as 0 and "".
 *
 * @args: -q
 */

#pragma D option defaultargs

BEGIN
{
	printf("[%d] [%s]\n", $1, $$2);
	exit(0);
}
