/*
 * Aggregation drops are reported while tracing (about once a second, as dtrace reports drops
 * at its status rate) and the rest at the end: two reports for a 1.5 s run that keeps
 * dropping, each counting only the drops since the one before.
 *
 * @args: -q -x aggsize=1k
 */

profile:::tick-10ms
{
	@[i++] = count();
}

profile:::tick-1500ms
{
	trunc(@);
	exit(0);
}
