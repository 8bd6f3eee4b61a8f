/*
 * The ordering check across guests: guest A fires order:::send(n), then writes n to a mailbox
 * shared with guest B; B reads it and fires order:::recv(n). No recv(n) may run before its
 * send(n), and none may carry an earlier (translated) timestamp.
 *   vtrace -Z -s examples/guest_order.d 10000        (async: merged by translated time)
 *   vtrace -Z -x mode=sync -s examples/guest_order.d 10000   (sync: exact by construction)
 * $1 is the number of messages; the script ends when recv($1) has run.
 */
#pragma D option quiet

BEGIN
{
	printf("waiting for %d messages\n", $1);
}

order:::send
{
	sent[arg0] = timestamp;
	@messages[vmname, "send"] = count();
}

order:::recv
/sent[arg0] == 0/
{
	@inversions["recv ran before its send"] = count();
}

order:::recv
/sent[arg0] != 0 && timestamp < sent[arg0]/
{
	@inversions["recv stamped before its send"] = count();
}

order:::recv
/sent[arg0] != 0/
{
	@gap["send -> recv (ns)"] = quantize(timestamp - sent[arg0]);
}

order:::recv
{
	@messages[vmname, "recv"] = count();
	sent[arg0] = 0;
}

order:::recv
/arg0 == $1/
{
	exit(0);
}

END
{
	printa("%-8s %-5s %@d\n", @messages);
	printf("inversions:\n");
	printa("  %s: %@d\n", @inversions);
	printa(@gap);
}
