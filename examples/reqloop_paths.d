/*
 * Requests per path: the path is a string the probe site copies (VTRACE_PROBE_STR), read with
 * copyinstr(arg0) as a user-space string would be.
 *
 *   vtrace -s examples/reqloop_paths.d -c './reqloop 1000'
 */
#pragma D option quiet

reqloop*:::request-path
{
	@[copyinstr(arg0)] = count();
}

END
{
	printa("%-16s %@d\n", @);
}
