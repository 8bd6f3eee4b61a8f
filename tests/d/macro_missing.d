/*
 * A macro argument that was not given is a compile error (DTrace's "macro argument $N is
 * not defined"), exit 1.
 *
 * @args: -q -s {script} 1
 * @exit: 1
 */

BEGIN
{
	printf("%d\n", $1 + $2);
}
