/*
 * A description of one field is the probe name; provider, module and function match anything.
 *
 * @args: -q
 */

BEGIN
{
	printf("%s:%s:%s:%s\n", probeprov, probemod, probefunc, probename);
	exit(0);
}
