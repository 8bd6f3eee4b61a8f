/*
 * A character that is not part of D (a backquote) is an error at that character.
 *
 * @exit: 1
 */

BEGIN
{
	x = 1 ` 2;
}
