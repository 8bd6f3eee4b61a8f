/*
 * A missing string macro argument ($$N) is an error too.
 *
 * @args: -q -s {script}
 * @exit: 1
 */

BEGIN
{
	printf("%s\n", $$1);
}
