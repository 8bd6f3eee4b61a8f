/*
 * profile-N probes fire too (here at 500 Hz).
 *
 */

#pragma D option quiet

profile:::profile-500hz
{
	n++;
}

profile:::tick-200ms
/n > 0/
{
	printf("ok\n");
	exit(0);
}
