/*
 * this-> variables do not outlive the probe firing: in END (a new firing) the variable that
 * BEGIN set reads as 0 again.
 *
 * @args: -q
 */

BEGIN
{
	this->x = 7;
	printf("BEGIN %d\n", this->x);
	exit(0);
}

END
{
	printf("END %d\n", this->x);
}
