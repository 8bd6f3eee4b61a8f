/*
 * -x defaultargs: missing macro arguments are 0 ($N) and "" ($$N); given ones are used.
 *
 * @args: -q -x defaultargs -s {script} 5
 */

BEGIN
{
	printf("%d %d [%s] [%s]\n", $1, $2, $$1, $$2);
	exit(0);
}
