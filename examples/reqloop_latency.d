/*
 * Latency distribution of reqloop's requests (examples/reqloop.cpp):
 *
 *   vtrace -s examples/reqloop_latency.d -c './reqloop 2000'
 *   vtrace -s examples/reqloop_latency.d -p PID
 *
 * Four-field descriptions (provider:module:function:name) match every target, so these match the
 * probes of whichever reqloop process is traced; "reqloop*" also matches a provider named with
 * the process id, as dtrace's USDT providers are (reqloop1234).
 */
#pragma D option quiet

reqloop*:::request-start
{
	self->ts = timestamp;
}

reqloop*:::request-done
/self->ts/
{
	@lat["request latency (ns)"] = quantize(timestamp - self->ts);
	@n = count();
	self->ts = 0;
}

END
{
	printa("requests: %@d\n", @n);
	printa(@lat);
}
