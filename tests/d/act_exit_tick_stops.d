/*
 * After exit(), no further probe firings run clauses: the tick clause counts to 3 and exits,
 * END prints the final count.
 *
 */

#pragma D option quiet

int n;

profile:::tick-1ms
/n < 3/
{
	n++;
	printf("tick %d\n", n);
}

profile:::tick-1ms
/n == 3/
{
	exit(0);
}

END
{
	printf("end %d\n", n);
}
