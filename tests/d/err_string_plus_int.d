/*
 * A string operand of + is a type error, reported as DTrace does:
 * operands have incompatible types: "string" + "int".
 *
 * @exit: 1
 */

BEGIN
{
	s = "abc";
	x = s + 1;
}
