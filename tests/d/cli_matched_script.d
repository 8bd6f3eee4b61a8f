/*
 * Without -q, vtrace reports on stderr how many probes the script matched
 * ("script 'NAME' matched N probes", plural unless 1). The trace output goes to /dev/null.
 *
 * @args: -o /dev/null -s {script}
 */

BEGIN
{
	exit(0);
}

END
{
}
