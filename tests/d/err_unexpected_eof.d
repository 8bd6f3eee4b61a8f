/*
 * A clause cut off by the end of the file is a syntax error; exit 1.
 *
 * @exit: 1
 */

BEGIN
{
	x = 1;
