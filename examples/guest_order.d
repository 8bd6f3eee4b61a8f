/*
 * The ordering check across guests: guest A fires order:::send(n), then writes n to a mailbox
 * shared with guest B; B reads it and fires order:::recv(n). So recv(n) happens after send(n).
 *   vtrace -Z -s examples/guest_order.d 10000                (async: merged by translated time)
 *   vtrace -Z -x mode=sync -s examples/guest_order.d 10000   (sync: exact by construction)
 * $1 is the number of messages; the script ends when it has seen every send and recv.
 *
 * An inversion is a recv that ran before its send, or carries an earlier timestamp. In sync mode
 * there must be none. In async mode, timestamps are guest clocks translated to host time within a
 * bound (vtrace prints each guest's at the end): a pair closer than the two bounds may invert,
 * and "inverted by" says by how much.
 */
#pragma D option quiet

uint64_t recvd[int64_t];	/* timestamps of recvs that ran before their send */

BEGIN
{
	printf("waiting for %d messages\n", $1);
}

order:::send
{
	sent[arg0] = timestamp;
	nsend++;
	@messages[vmname, "send"] = count();
}

order:::send
/recvd[arg0] != 0/
{
	@inversions["recv ran before its send"] = count();
	@worst["inverted by (ns)"] = max(timestamp > recvd[arg0] ? timestamp - recvd[arg0] : 0);
	recvd[arg0] = 0;
}

order:::recv
/sent[arg0] == 0/
{
	recvd[arg0] = timestamp;
}

order:::recv
/sent[arg0] != 0 && timestamp < sent[arg0]/
{
	@inversions["recv stamped before its send"] = count();
	@worst["inverted by (ns)"] = max(sent[arg0] - timestamp);
}

order:::recv
/sent[arg0] != 0/
{
	@gap["send -> recv (ns)"] = quantize((int64_t)(timestamp - sent[arg0]));
	sent[arg0] = 0;
}

order:::recv
{
	nrecv++;
	@messages[vmname, "recv"] = count();
}

order:::send,
order:::recv
/nsend == $1 && nrecv == $1/
{
	exit(0);
}

/* Should records be lost (drops vtrace reports), end five seconds after the last one (a VM
 * paused for a few seconds is not the end). */
order:::send,
order:::recv
{
	last = timestamp;
}

profile:::tick-100ms
/last != 0 && timestamp - last > 5000000000/
{
	exit(0);
}

END
{
	printa("%-8s %-5s %@d\n", @messages);
	printf("inversions:\n");
	printa("  %s: %@d\n", @inversions);
	printa("  %s: %@d\n", @worst);
	printa(@gap);
}
