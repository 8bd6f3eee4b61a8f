/*
 * -e still reports compile errors, with exit 1.
 *
 * @args: -e -s {script}
 * @exit: 1
 */

BEGIN
{
	printf("%d\n", undefined_thing);
}
