/*
 * Faults on every firing do not stop the script: each fires ERROR; exit after three.
 *
 */

#pragma D option quiet

int y;

int n;

profile:::tick-1ms
{
	x = 1 / y;
}

ERROR
{
	n++;
}

ERROR
/n == 3/
{
	printf("3 errors\n");
	exit(0);
}
