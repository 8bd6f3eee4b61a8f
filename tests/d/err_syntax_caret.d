/*
 * A syntax error: file:line:col, the source line and a caret under the offending token; exit 1.
 *
 * @exit: 1
 */

BEGIN
{
	x = (1 + 2;
}
