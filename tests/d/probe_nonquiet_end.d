/*
 * Without -q each firing gets its line; trace() of an int prints " %10d" after the
 * probe columns. BEGIN is probe 1 and END probe 2.
 *
 * @args: -o /dev/stderr -s {script}
 */

BEGIN
{
	exit(0);
}

END
{
	trace(42);
}
