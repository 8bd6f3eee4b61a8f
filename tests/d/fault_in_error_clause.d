/*
 * A fault inside an ERROR clause is reported but does not fire ERROR again.
 *
 */

#pragma D option quiet

int y;

BEGIN
{
	x = 1 / y;
}

ERROR
{
	printf("error clause\n");
	z = 2 / y;
}

BEGIN
{
	printf("next\n");
	exit(0);
}
