/*
 * tracemem()'s size is a positive integer constant: what it records is fixed when the script
 * compiles, as in dtrace.
 *
 * @exit: 1
 */

BEGIN
{
	n = 4;
	tracemem(alloca(4), n);
}
