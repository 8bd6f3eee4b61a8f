/*
 * Output that does not fit in specsize fires ERROR with "speculation buffer exhausted"
 * (issue 2); the script goes on and the speculation commits nothing of that clause.
 *
 */

#pragma D option quiet
#pragma D option specsize=8

BEGIN
{
	s = speculation();
}

BEGIN
{
	speculate(s);
	printf("this line is longer than eight bytes\n");
}

ERROR
{
	printf("error\n");
}

BEGIN
{
	commit(s);
}

BEGIN
{
	printf("end\n");
	exit(0);
}
