/*
 * Macro arguments work anywhere an expression does, e.g. in predicates and as exit status.
 *
 * @args: -q -s {script} 3 yes
 * @exit: 3
 */

BEGIN
/$1 > 2 && $$2 == "yes"/
{
	printf("big\n");
}

BEGIN
/$1 <= 2/
{
	printf("small\n");
}

BEGIN
{
	exit($1);
}
