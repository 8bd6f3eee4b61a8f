/*
 * Request latency measured inside guests, split by what the host did to the guest's vCPU:
 * "vCPU ran throughout" the request, or "vCPU preempted on the host" at some point in it (the
 * host ran another task while the guest wanted to run; the latency then includes host time the
 * guest never saw).
 *
 *   vtrace vm start web1
 *   vtrace -Z -s examples/vmm_latency.d &
 *   vtrace vm exec web1 -- /bin/reqloop 5000
 *   kill -INT %1
 *
 * vcpustolen is the host time taken from the current vCPU since the previous guest probe on that
 * vCPU, so the script sums it per vCPU over every probe it enables: the stolen time of a request
 * is that sum at request-done minus the sum at request-start. A request whose thread moved to
 * another vCPU in between is counted apart.
 */
#pragma D option quiet

reqloop*:::
{
	stolen[vmname, vcpu] += vcpustolen;
}

reqloop*:::request-start
{
	self->ts = timestamp;
	self->vcpu = vcpu;
	self->stolen0 = stolen[vmname, vcpu];
}

reqloop*:::request-done
/self->ts && vcpu != self->vcpu/
{
	@lat[vmname, "thread moved to another vCPU"] = quantize(timestamp - self->ts);
	self->ts = 0;
}

reqloop*:::request-done
/self->ts/
{
	this->stolen = stolen[vmname, vcpu] - self->stolen0;
	this->how = this->stolen == 0 ? "vCPU ran throughout" : "vCPU preempted on the host";
	@lat[vmname, this->how] = quantize(timestamp - self->ts);
	@n[vmname, this->how] = count();
	@avg[vmname, this->how] = avg(timestamp - self->ts);
	@steal[vmname] = sum(this->stolen);
	self->ts = 0;
}

END
{
	printf("%-12s %-30s %10s\n", "VM", "REQUESTS", "COUNT");
	printa("%-12s %-30s %@10d\n", @n);
	printf("\n%-12s %-30s %14s\n", "VM", "REQUESTS", "AVG LAT (ns)");
	printa("%-12s %-30s %@14d\n", @avg);
	printf("\nhost time stolen from the requests' vCPUs (ns):\n");
	printa("  %-12s %@d\n", @steal);
	printa(@lat);
}
