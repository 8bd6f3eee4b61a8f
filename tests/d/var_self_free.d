/*
 * Assigning 0 to a self-> variable frees it: it reads as 0 and a predicate on it is false.
 *
 * @args: -q
 */

BEGIN
{
	self->ts = 100;
}

BEGIN
/self->ts/
{
	printf("set %d\n", self->ts);
	self->ts = 0;
}

BEGIN
/self->ts/
{
	printf("never\n");
}

BEGIN
{
	printf("freed %d\n", self->ts);
	exit(0);
}
