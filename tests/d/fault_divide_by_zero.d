/*
 * Integer division by zero fires dtrace:::ERROR with a message naming the fault and the
 * clause; the clause's earlier output is discarded; later clauses still run.
 *
 */

#pragma D option quiet

int y;

BEGIN
{
	printf("discarded\n");
	x = 1 / y;
}

ERROR
{
	printf("ERROR\n");
}

BEGIN
{
	printf("next\n");
	exit(0);
}
