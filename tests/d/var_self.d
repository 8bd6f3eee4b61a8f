/*
 * Thread-local variables (self->) keep their value in later clauses and probes of the same
 * thread; BEGIN and END fire in vtrace's own thread.
 *
 * @args: -q
 */

BEGIN
{
	self->x = 5;
	self->s = "mine";
}

BEGIN
{
	self->x *= 2;
	exit(0);
}

END
{
	printf("%d %s\n", self->x, self->s);
}
