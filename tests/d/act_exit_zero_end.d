/*
 * END runs once after exit(0), even when several clauses enable it, in program order.
 *
 */

#pragma D option quiet

END
{
	printf("end 1\n");
}

BEGIN
{
	exit(0);
}

END
{
	printf("end 2\n");
}
