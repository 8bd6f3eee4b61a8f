/*
 * A block comment that never ends is an error at its start.
 *
 * @exit: 1
 */

BEGIN
{
	/* never closed
	exit(0);
}
