/*
 * exit() does not stop the other clauses of the same probe firing; END runs after exit()
 * and its output comes last; the exit() argument becomes the exit status.
 *
 * @exit: 3
 */

#pragma D option quiet

BEGIN
{
	printf("begin\n");
	exit(3);
}

BEGIN
{
	printf("second clause\n");
}

END
{
	printf("end\n");
}
