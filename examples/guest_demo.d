/*
 * One script across two guests (examples/guest_demo.sh runs it): per-VM system call counts of
 * the workload, and one request latency distribution per VM and across both, all on the host's
 * timebase.
 */
#pragma D option quiet

BEGIN
{
	printf("tracing web1 and db1\n");
}

web1:syscall:::entry,
db1:syscall:::entry
/execname == "reqloop"/
{
	@calls[vmname, probefunc] = count();
}

reqloop*:::request-start
{
	self->ts = timestamp;
}

reqloop*:::request-done
/self->ts/
{
	@lat[vmname] = quantize(timestamp - self->ts);
	@both["web1 + db1"] = quantize(timestamp - self->ts);
	@requests[vmname] = count();
	self->ts = 0;
}

END
{
	printf("system calls of reqloop, per VM:\n");
	printa("  %-6s %-16s %@8d\n", @calls);
	printf("\nrequests per VM:\n");
	printa("  %-6s %@8d\n", @requests);
	printf("\nrequest latency (ns), per VM and across both:\n");
	printa(@lat);
	printa(@both);
}
