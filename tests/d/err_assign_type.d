/*
 * A variable keeps the type of its first assignment: assigning a string to an int variable
 * is an error.
 *
 * @exit: 1
 */

BEGIN
{
	x = 1;
	x = "one";
}
