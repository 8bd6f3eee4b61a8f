/*
 * After -C, an error points at the line of the script where it is, past the directives cpp
 * removed, and shows that line.
 *
 * @args: -C
 * @exit: 1
 */

#define A 1
#define B 2

BEGIN
{
	x = A + B;
	y = (x;
}
