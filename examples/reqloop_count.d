/*
 * How often each reqloop probe fired (examples/reqloop.cpp):
 *
 *   vtrace -s examples/reqloop_count.d -c './reqloop 1000'
 */
#pragma D option quiet

reqloop*:::
{
	@[probename] = count();
}

END
{
	printa("%-16s %@d\n", @);
}
