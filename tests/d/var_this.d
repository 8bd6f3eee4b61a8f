/*
 * A clause-local variable (this->) set in one clause is visible in the later clauses of the
 * same probe firing.
 *
 * @args: -q
 */

BEGIN
{
	this->x = 21;
	this->s = "local";
}

BEGIN
{
	this->x = this->x * 2;
}

BEGIN
{
	printf("%d %s\n", this->x, this->s);
	exit(0);
}
